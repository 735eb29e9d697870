package sqsdispatch

import "fmt"

// route picks the job of a message: Config.Job, or what Config.Route says.
// A routing error or an unregistered name is a permanent failure.
func (d *Dispatcher) route(m *Message) (Job, error) {
	name := d.cfg.Job
	if d.cfg.Route != nil {
		n, err := d.cfg.Route(m)
		if err != nil {
			return Job{Name: n}, fmt.Errorf("sqsdispatch: routing message: %w", err)
		}
		name = n
	}
	job, ok := d.cfg.Registry.Lookup(name)
	if !ok {
		return Job{Name: name}, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	return job, nil
}

// RouteByAttribute returns a Config.Route that takes the job name from the
// message attribute name (a String attribute). A message without it is a
// permanent failure.
func RouteByAttribute(name string) func(*Message) (string, error) {
	return func(m *Message) (string, error) {
		a, ok := m.MessageAttributes[name]
		switch {
		case !ok:
			return "", fmt.Errorf("message has no %q attribute to route it by", name)
		case a.BinaryValue != nil || a.StringValue == "":
			return "", fmt.Errorf("routing attribute %q is not a non-empty string", name)
		}
		return a.StringValue, nil
	}
}
