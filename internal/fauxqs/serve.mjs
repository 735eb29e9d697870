// Starts fauxqs on 127.0.0.1 with a port the OS picks, prints the port,
// and exits when its standard input closes (its parent is gone).
import { buildApp } from "fauxqs";

const app = buildApp({ logger: false, host: "127.0.0.1" });
await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`FAUXQS_PORT=${app.server.address().port}\n`);
process.stdin.on("data", () => {});
process.stdin.on("end", () => app.close().finally(() => process.exit(0)));
process.stdin.on("error", () => process.exit(0));
