// Package resume carries a checkpointed job's progress from one SQS
// message to the next. When a job that recorded a checkpoint is
// interrupted, the dispatcher sends a copy of its message carrying State
// in one message attribute, and deletes the original once the copy is
// confirmed; the next run of the job reads the checkpoint back.
package resume

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sqsdispatch/go-sqsdispatch/internal/wire"
)

// Attr is the message attribute that carries State, as a Binary value.
const Attr = "sqsdispatch.resume"

// DataType is the SQS data type of Attr.
const DataType = "Binary"

// State is what a continued message carries of the runs before it.
type State struct {
	// Origin is the ID of the first message of the chain.
	Origin string `json:"origin"`
	// Seq counts the checkpoints recorded across the chain.
	Seq uint64 `json:"seq"`
	// FirstReceived is when the chain's first message was first received.
	FirstReceived time.Time `json:"first_received"`
	// Runs counts the deliveries of the earlier messages of the chain.
	Runs int `json:"runs"`
	// Checkpoint is the last checkpoint recorded.
	Checkpoint []byte `json:"checkpoint"`
}

// Encode returns the attribute value of s.
func (s State) Encode() []byte {
	b, _ := json.Marshal(s) // cannot fail: plain fields only
	return b
}

// Decode reads an attribute value written by Encode.
func Decode(b []byte) (State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("sqsdispatch: attribute %s: %w", Attr, err)
	}
	switch {
	case s.Origin == "":
		return State{}, errors.New("sqsdispatch: attribute " + Attr + " names no origin")
	case s.Runs < 0:
		return State{}, fmt.Errorf("sqsdispatch: attribute %s counts %d runs", Attr, s.Runs)
	case len(s.Checkpoint) > wire.MaxCheckpointBytes:
		return State{}, fmt.Errorf("sqsdispatch: attribute %s carries a checkpoint of %d bytes, more than the %d a job can record",
			Attr, len(s.Checkpoint), wire.MaxCheckpointBytes)
	}
	return s, nil
}

// Next is the state a message continued after a run carries: delivered
// receives times in this message, n more checkpoints, the last being cp.
// s is the zero State for the chain's first message, whose id and first
// receive time then start the chain.
func (s State) Next(id string, firstReceived time.Time, receives, n int, cp []byte) State {
	if s.Origin == "" {
		s.Origin, s.FirstReceived = id, firstReceived
	}
	s.Seq += uint64(n)
	s.Runs += receives
	s.Checkpoint = cp
	return s
}

// DedupID is the FIFO deduplication ID of the continuation that carries
// checkpoint seq of the chain started by origin: a repeated send of the
// same continuation is dropped by SQS.
func DedupID(origin string, seq uint64) string {
	sum := sha256.Sum256([]byte(origin + "\x00" + strconv.FormatUint(seq, 10)))
	return "resume-" + hex.EncodeToString(sum[:])
}
