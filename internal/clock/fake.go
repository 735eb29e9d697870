package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a clock that moves only when Advance is called. Timers fire (a
// non-blocking send on their channel, as time.Timer does) when the clock
// reaches their deadline.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	added  chan struct{} // signalled whenever a timer is armed
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, added: make(chan struct{}, 1)}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires once the clock has advanced by d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d, firing every timer due on the way,
// earliest first.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	end := f.now.Add(d)
	for {
		sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
		if len(f.timers) == 0 || f.timers[0].at.After(end) {
			break
		}
		t := f.timers[0]
		f.timers = f.timers[1:]
		t.armed = false
		f.now = t.at
		select {
		case t.c <- f.now:
		default:
		}
	}
	f.now = end
	f.mu.Unlock()
}

// Armed returns how many timers are waiting to fire.
func (f *Fake) Armed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// TimerArmed returns a channel that receives a value after a timer has
// been armed (created or reset); a test can wait on it before Advance.
func (f *Fake) TimerArmed() <-chan struct{} { return f.added }

type fakeTimer struct {
	f     *Fake
	c     chan time.Time
	at    time.Time
	armed bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	return t.disarm()
}

func (t *fakeTimer) disarm() bool {
	if !t.armed {
		return false
	}
	t.armed = false
	for i, o := range t.f.timers {
		if o == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			break
		}
	}
	return true
}

func (t *fakeTimer) Reset(d time.Duration) {
	t.f.mu.Lock()
	t.disarm()
	t.at = t.f.now.Add(d)
	t.armed = true
	t.f.timers = append(t.f.timers, t)
	t.f.mu.Unlock()
	select {
	case t.f.added <- struct{}{}:
	default:
	}
}
