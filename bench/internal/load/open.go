package load

import (
	"context"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// OpenResult is one open-loop run.
type OpenResult struct {
	// Requests sent, and OK those answered with the target's status.
	Requests, OK int64
	// Latencies of every request, answered or not, as vegeta measures
	// them: from the moment a worker took the request's tick to the
	// response's last byte.
	Latencies []time.Duration
	// FromSchedule are the same requests' latencies from the moment the
	// constant rate meant them to be sent. They differ from Latencies
	// when the generator fell behind: a request that leaves late makes
	// its caller wait the delay too, and leaving that out is coordinated
	// omission when the delay is the server's doing. vegeta never waits
	// for a busy connection, so here the delay is the generator's own:
	// its timer oversleeping (by about a millisecond for sub-millisecond
	// waits on Linux) and the CPU the server takes from it. That makes
	// FromSchedule an upper bound, and Lateness a check on the run.
	FromSchedule []time.Duration
	// Lateness is the largest delay of a request behind its schedule.
	Lateness time.Duration
}

// Open sends t to base (http://host:port) at rate requests per second for
// d, with vegeta's attacker (keep-alive connections, as many workers as
// the rate needs: a request is never held back for want of a connection).
func Open(ctx context.Context, base string, t Target, rate int, d time.Duration) OpenResult {
	atk := vegeta.NewAttacker(
		vegeta.KeepAlive(true),
		vegeta.HTTP2(false),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(10*time.Second),
		vegeta.Workers(32),
		vegeta.MaxBody(0), // vegeta still reads the body to keep the connection
	)
	header := http.Header{}
	for k, v := range t.Header {
		header.Set(k, v)
	}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: t.method(), URL: base + t.Path, Header: header, Body: t.Body})
	want := uint16(t.want())
	pacer := vegeta.ConstantPacer{Freq: rate, Per: time.Second}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()

	type sample struct {
		seq  uint64
		sent time.Time
		lat  time.Duration
	}
	var samples []sample
	var res OpenResult
	for r := range atk.Attack(tr, pacer, d, "") {
		res.Requests++
		if r.Code == want && r.Error == "" {
			res.OK++
		}
		samples = append(samples, sample{r.Seq, r.Timestamp, r.Latency})
	}
	// Request seq was meant to leave at began + (seq+1)·interval (the
	// constant pacer's schedule). began is vegeta's own and not exported:
	// the earliest send, less its scheduled offset, stands for it, since
	// no request leaves before its time.
	interval := time.Second / time.Duration(rate)
	var began time.Time
	for i, s := range samples {
		t := s.sent.Add(-time.Duration(s.seq+1) * interval)
		if i == 0 || t.Before(began) {
			began = t
		}
	}
	res.Latencies = make([]time.Duration, len(samples))
	res.FromSchedule = make([]time.Duration, len(samples))
	for i, s := range samples {
		late := s.sent.Sub(began.Add(time.Duration(s.seq+1) * interval))
		res.Latencies[i] = s.lat
		res.FromSchedule[i] = s.lat + late
		res.Lateness = max(res.Lateness, late)
	}
	return res
}
