// Package sqsdispatchtest helps test code that uses sqsdispatch: it runs
// one job the way the dispatcher does and reports the message's fate
// ([RunJob]), provides an in-memory Amazon SQS client so that a whole
// dispatcher can run without a server ([Client]), and starts a local
// SQS-compatible server for integration tests ([StartServer]) and for
// programs ([StartLocalServer], and the command localsqs, which runs one
// for a service started by hand).
//
// # Running one job
//
// [RunJob] sends a [Message] to an in-memory queue with a dead-letter
// queue and lets a dispatcher receive it: the job runs in a child process
// of the test binary, through the same path as in production, and the
// returned [Outcome] says whether the message was deleted, dead-lettered
// (with the reason), given back (with its visibility) or left in flight,
// with the error the dispatcher reported. [StopWhen] and [StopAfter] stop
// the dispatcher while the job runs, as a stop signal would, so that the
// job's Cleanup runs. The jobs run in child processes of the test binary,
// so its TestMain hands the service's registry to [Main], which calls
// sqsdispatch.Init first (in a job child it runs the job and exits):
//
//	func TestMain(m *testing.M) {
//		sqsdispatchtest.Main(m, registry())
//	}
//
//	func TestResizeRejectsGIF(t *testing.T) {
//		out, err := sqsdispatchtest.RunJob(t.Context(),
//			sqsdispatch.Config{Registry: registry(), Job: "resize"},
//			sqsdispatchtest.Message{Body: "cat.gif"})
//		if err != nil {
//			t.Fatal(err)
//		}
//		if !out.DeadLettered {
//			t.Errorf("resize of a GIF: %s, want dead-lettered", out)
//		}
//	}
//
// # A local server
//
// [StartServer] installs (once per user, with npm) and starts fauxqs, an
// SQS-compatible server, for the length of a test; [Server.CreateQueue]
// creates queues on it with an optional dead-letter queue,
// [Server.Send] sends a [Message] to one, [Server.WaitDeadLetter] reads
// what a dispatcher moved to a dead-letter queue, with the reason, and
// [Server.WaitEmpty] waits until a queue holds no message:
//
//	func TestResizeDeadLettersAGIF(t *testing.T) {
//		srv := sqsdispatchtest.StartServer(t)
//		q := srv.CreateQueue(t, "images", sqsdispatchtest.MaxReceiveCount(3))
//		srv.Send(t, q.URL, sqsdispatchtest.Message{Body: "cat.gif"})
//		d, err := sqsdispatch.New(sqsdispatch.Config{Client: srv.Client(), QueueURL: q.URL,
//			Registry: registry(), Job: "resize"})
//		if err != nil {
//			t.Fatal(err)
//		}
//		d.DispatchOne(t.Context())
//		if dl := srv.WaitDeadLetter(t, q.DLQURL); !strings.Contains(dl.Reason, "GIF") {
//			t.Errorf("dead-letter reason %q", dl.Reason)
//		}
//		srv.WaitEmpty(t, q.URL)
//	}
//
// [StartLocalServer] starts the same server for a program, such as the
// quick start, with a context instead of a test, and [LocalServer.Close]
// stops it. The server is installed into $SQSDISPATCH_TOOLS_DIR, else
// into sqsdispatch/tools in the user's cache folder, which every module
// and program shares; removing that folder removes it.
//
// # The in-memory client
//
// [Client] implements every method of sqsdispatch.Client with the AWS SDK's
// own input and output types, plus [Client.CreateQueue] and
// [Client.SetQueueAttributes], so test setup reads the same as against SQS:
//
//	c := sqsdispatchtest.NewClient()
//	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
//	...
//	d, err := sqsdispatch.New(sqsdispatch.Config{Client: c, QueueURL: *q.QueueUrl, ...})
//
// What it emulates: queues by name, URL and ARN; the queue attributes the
// dispatcher reads; visibility timeouts and their 12-hour limit; receive
// counts and a new receipt handle per receive (a handle from an earlier
// receive is stale); redrive to a dead-letter queue once a message has been
// received maxReceiveCount times; long polls that wake when a message
// arrives or becomes visible; FIFO queues (one message of a group in flight
// at a time, order within a group, five-minute deduplication by ID or
// content, sequence numbers); message attributes of every data type; the
// size and character limits of SQS; and errors that implement
// smithy.APIError with SQS's error codes (QueueDoesNotExist,
// ReceiptHandleIsInvalid, MessageNotInflight, InvalidParameterValue, ...),
// wrapped in a *smithy.OperationError as the SDK does. Every call on a URL
// that names no queue fails with QueueDoesNotExist. A call whose
// context ends returns ctx.Err() itself, and an injected failure is
// returned as it was given.
//
// For tests it adds fault injection ([Client.FailNext],
// [Client.LoseNextResponse], [Client.Intercept]), inspection
// ([Client.Messages], [Client.Counts], [Client.Calls]) and a clock that
// tests can drive ([WithClock]).
//
// What it does not emulate: the sampling of real SQS (every receive sees
// every visible message, and standard queues hand messages out in the order
// they were sent, although code must not rely on that; messages are never
// delivered twice except after their visibility timeout ends); message
// retention (messages never expire); permissions, policies, KMS and
// server-side encryption (such attributes are stored and returned, nothing
// more); tags; ReceiveRequestAttemptId; list attribute values; and the
// operations outside sqsdispatch.Client other than CreateQueue and
// SetQueueAttributes. The deduplication records of a FIFO queue are kept
// for their five-minute window; deleted messages leave nothing else behind.
//
// A Client is safe for concurrent use. Its zero value is not usable: call
// [NewClient].
package sqsdispatchtest
