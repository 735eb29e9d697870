// Package ecsprotect is a ready-made sqsdispatch.BusyHook for Amazon ECS:
// it turns task scale-in protection on while the dispatcher holds
// messages and off when it holds none, so that service auto scaling and
// deployments stop idle tasks and leave busy ones alone.
//
// It calls the ECS container agent's task scale-in protection endpoint,
// PUT $ECS_AGENT_URI/task-protection/v1/state, with plain net/http; it
// needs no AWS SDK. The agent calls ECS's UpdateTaskProtection with the
// task's own role, so:
//
//   - the task role (not the execution role) needs the IAM permission
//     ecs:UpdateTaskProtection on the task;
//   - the task must belong to an ECS service: a standalone task is
//     refused (TASK_NOT_VALID);
//   - the container agent must provide ECS_AGENT_URI and the endpoint:
//     Fargate does, and on EC2 the agent does from version 1.65.0.
//
// Each SetBusy(true) protects the task for Config.Expires (whole minutes,
// from 1 minute to 48 hours; 10 minutes by default), and the dispatcher
// repeats it every half of that while it stays busy. A process that dies
// without saying false leaves its task protected until the protection
// expires, so keep Expires short. A task that never runs out of work
// stays protected, and a deployment waits for it: retire the dispatcher
// (Config.MaxLifetime or Config.MaxJobs), or drain it, so that it goes
// idle from time to time.
//
// Wiring it:
//
//	protect, err := ecsprotect.New(ecsprotect.Config{})
//	if err != nil {
//		log.Fatal(err) // not on ECS: ECS_AGENT_URI is not set
//	}
//	d, err := sqsdispatch.New(sqsdispatch.Config{
//		Client:   sqs.NewFromConfig(awsCfg),
//		QueueURL: os.Getenv("QUEUE_URL"),
//		Registry: reg,
//		Job:      "report",
//		BusyHook: protect,
//	})
//
// Protection only keeps scale-in from choosing a busy task. A task that
// is stopped all the same (a deployment past its protection, a spot
// interruption, an operator) gets the dispatcher's stop protocol: give
// the container a stopTimeout of at least Config.StopBudget().
package ecsprotect
