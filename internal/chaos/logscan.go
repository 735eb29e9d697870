package chaos

import (
	"bufio"
	"encoding/json"
	"io"
)

// outcomeLeaseLost is the outcome field of sqsdispatch's log line for a
// job stopped because its message's lease was lost.
const outcomeLeaseLost = "lease_lost"

// LogSummary is what a dispatcher's log tells the verdict.
type LogSummary struct {
	// Outcomes counts the logged outcomes by name.
	Outcomes map[string]int
	// LeaseLost are the deliveries whose lease was lost.
	LeaseLost []Delivery
}

// ScanLog reads a dispatcher's JSON log lines (zap's production encoding,
// with the library's stable field names) into s. Lines that are not JSON
// (a panic, Exit's message) are skipped.
func (s *LogSummary) ScanLog(r io.Reader) error {
	if s.Outcomes == nil {
		s.Outcomes = map[string]int{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var line struct {
			Outcome      string `json:"outcome"`
			MessageID    string `json:"message_id"`
			ReceiveCount int    `json:"receive_count"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Outcome == "" {
			continue
		}
		s.Outcomes[line.Outcome]++
		if line.Outcome == outcomeLeaseLost {
			s.LeaseLost = append(s.LeaseLost, Delivery{MessageID: line.MessageID, ReceiveCount: line.ReceiveCount})
		}
	}
	return sc.Err()
}
