// Starts fauxqs on 127.0.0.1 on the port given as the first argument (0:
// one the OS picks), prints the port, and exits when its standard input
// closes (its parent stopped it, or is gone).
import { buildApp } from "fauxqs";

const port = Number(process.argv[2] ?? "0");
const app = buildApp({ logger: false, host: "127.0.0.1" });
await app.listen({ host: "127.0.0.1", port });
process.stdout.write(`FAUXQS_PORT=${app.server.address().port}\n`);
process.stdin.on("data", () => {});
process.stdin.on("end", () => app.close().finally(() => process.exit(0)));
process.stdin.on("error", () => process.exit(0));
