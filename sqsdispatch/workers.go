package sqsdispatch

// workers runs functions on goroutines that are kept for the next one.
// A message's work goes through the SDK's deep call chains; a fresh
// goroutine would grow its stack, copying it, on every message.
type workers struct {
	work chan func()
	stop chan struct{}
}

func newWorkers() *workers {
	return &workers{work: make(chan func()), stop: make(chan struct{})}
}

// run runs fn on an idle worker, or on a new one if none is idle.
func (w *workers) run(fn func()) {
	select {
	case w.work <- fn:
	default:
		go w.loop(fn)
	}
}

func (w *workers) loop(fn func()) {
	for {
		fn()
		select {
		case fn = <-w.work:
		case <-w.stop:
			return
		}
	}
}

// close ends the idle workers; busy ones end when their function returns.
func (w *workers) close() { close(w.stop) }
