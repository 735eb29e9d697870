package sqsdispatch

import "fmt"

// route picks the job of a message: Config.Job, or what Config.Route says.
// A routing error or an unregistered name is a permanent failure.
func (d *Dispatcher) route(m *Message) (string, error) {
	if d.cfg.Route == nil {
		return d.cfg.Job, nil
	}
	name, err := d.cfg.Route(m)
	if err != nil {
		return name, fmt.Errorf("sqsdispatch: routing message: %w", err)
	}
	if _, ok := d.cfg.Registry.Lookup(name); !ok {
		return name, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	return name, nil
}
