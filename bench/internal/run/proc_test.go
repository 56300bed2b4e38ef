package run

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\thandler\nVmPeak:\t 1263356 kB\nVmHWM:\t   28060 kB\nVmRSS:\t   27612 kB\nThreads:\t7\n"
	rss, hwm, err := parseStatus([]byte(status))
	if err != nil || rss != 27612 || hwm != 28060 {
		t.Fatalf("got %d %d %v", rss, hwm, err)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t 12 MB\nVmHWM:\t 12 kB\n", "VmRSS:\t x kB\nVmHWM:\t 1 kB\n"} {
		if _, _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// This process's own status parses: the format is the kernel's.
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	if rss, hwm, err := parseStatus(b); err != nil || rss == 0 || hwm < rss/2 {
		t.Errorf("/proc/self/status: %d %d %v", rss, hwm, err)
	}
}

func TestCPUTimes(t *testing.T) {
	a, err := cpuTimes()
	if err != nil {
		t.Skip(err)
	}
	// Spin until this process has used 30 ms of CPU, however busy the
	// machine is: the machine's busy time must have grown by at least
	// about that (USER_HZ granularity aside).
	s0 := selfCPU()
	for end := time.Now().Add(10 * time.Second); selfCPU()-s0 < 30*time.Millisecond && time.Now().Before(end); {
	}
	b, _ := cpuTimes()
	if self := selfCPU() - s0; self < 30*time.Millisecond || b-a < self-20*time.Millisecond {
		t.Errorf("busy %v → %v, self %v", a, b, self)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 5}
	tb.Write([]byte("abc"))
	tb.Write([]byte("defg"))
	if got := tb.String(); got != "cdefg" {
		t.Errorf("tail %q", got)
	}
	if !strings.HasSuffix(tb.String(), "g") {
		t.Error("lost the end")
	}
}
