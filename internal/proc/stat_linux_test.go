package proc

import (
	"os"
	"syscall"
	"testing"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	rest := " 42 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0"
	tests := []struct {
		name    string
		line    string
		want    Stat
		wantErr bool
	}{
		{"plain name", "9 (sleep) S" + rest, Stat{State: 'S', PPID: 42, PGID: 7, Start: 123456}, false},
		{"name with spaces and parentheses", "9 (a) b (c) Z" + rest, Stat{State: 'Z', PPID: 42, PGID: 7, Start: 123456}, false},
		{"no name", "9 S" + rest, Stat{}, true},
		{"cut short", "9 (sleep) S 42 7", Stat{}, true},
		{"non-numeric parent", "9 (sleep) S x 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456", Stat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStat = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadStatOfSelf(t *testing.T) {
	t.Parallel()
	st, err := ReadStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID != os.Getppid() || st.PGID != syscall.Getpgrp() || st.Start == 0 {
		t.Fatalf("ReadStat(self) = %+v; want parent %d, group %d, a start time", st, os.Getppid(), syscall.Getpgrp())
	}
}
