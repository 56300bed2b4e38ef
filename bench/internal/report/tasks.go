package report

import (
	"fmt"
	"math"
	"strings"
)

// TasksRow is one of the Tasks function's rows and the figures issue 18
// asks for. They have no goal yet: the goals are to be set from them.
type TasksRow struct {
	Summary
	// ToHello is the row's req/s over the handler's on the authenticated
	// Hello, round by round: the same process settings, the same rounds.
	ToHello Ratio
	// StoreBytes is the largest size the row's store file reached at the
	// end of a turn, and StoreTasks how many tasks it held then.
	StoreBytes, StoreTasks int64
}

// Tasks returns the rows of the servers measured on a Tasks request, in
// the servers' order.
func (r *Results) Tasks() []TasksRow {
	var rows []TasksRow
	for _, s := range r.Summaries() {
		if s.Server.Hello() {
			continue
		}
		row := TasksRow{Summary: s, ToHello: r.RatioOf(s.Server.Key, Handler)}
		for _, rd := range r.Rounds {
			if rd.Server == s.Server.Key && rd.StoreBytes >= row.StoreBytes {
				row.StoreBytes, row.StoreTasks = rd.StoreBytes, max(row.StoreTasks, rd.StoreTasks)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// Line is the row as the console summary gives it, beside the targets.
func (t TasksRow) Line() string {
	ratio := "–"
	if !math.IsNaN(t.ToHello.Median) {
		ratio = fmt.Sprintf("%.2f×", t.ToHello.Median)
	}
	over := ""
	if t.Overrun() {
		over = " (above what it sustained: the queue's)"
	}
	return fmt.Sprintf("%-34s goal —    %s req/s (%s authenticated Hello), p99 at %s req/s %s%s, RSS %s, store file %s",
		t.Server.Name, thousands(t.RPS), ratio, thousands(float64(t.OpenRate)), ms(t.OpenP99), over, mb(t.RSSKB), storeSize(t.StoreBytes))
}

// Overrun reports whether the open loop's rate was more than the row
// sustained in the closed loop (its slowest round): its p99 is then the
// queue's, not the route's.
func (t TasksRow) Overrun() bool {
	return t.OpenRate > 0 && float64(t.OpenRate) > t.RPSLo
}

// markdownTasks writes the Tasks section, when the run measured it.
func (r *Results) markdownTasks(p func(string, ...any)) {
	rows := r.Tasks()
	if len(rows) == 0 {
		return
	}
	s := r.Settings
	p("## Tasks\n\n")
	p("The Tasks function on the embedded bbolt store: each row is a handler process of its own, as it runs by default (verified-token cache on), measured in the same rounds as the authenticated Hello, with the same token and connections. ")
	p("No goals yet: they are to be set from these figures.\n\n")
	p("| request | req/s (range) | / authenticated Hello (range) | open-loop rate | p99 at that rate | answered | RSS under load | store file | goal |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, t := range rows {
		ratio := "–"
		if !math.IsNaN(t.ToHello.Median) {
			ratio = fmt.Sprintf("%.2f (%.2f–%.2f)", t.ToHello.Median, t.ToHello.Lo, t.ToHello.Hi)
		}
		p99 := ms(t.OpenP99)
		if t.Overrun() {
			p99 += " (over capacity)"
		}
		p("| %s | %s (%s–%s) | %s | %s req/s | %s | %s | %s | %s | — |\n", t.Server.Route, thousands(t.RPS), thousands(t.RPSLo), thousands(t.RPSHi),
			ratio, thousands(float64(t.OpenRate)), p99, percent(t.OpenSuccess), mb(t.RSSKB), storeSize(t.StoreBytes))
	}
	p("\n")
	var prose []string
	say := func(format string, a ...any) { prose = append(prose, fmt.Sprintf(format, a...)) }
	say("The ratio is each round's req/s over the handler's on Hello in the same round, the median and range of the rounds.")
	say("GET's open loop runs at every server's rate, %s req/s. POST's runs at POST_RATE, %s req/s: each creation waits for its commit's fsync, which a disk shared with other work slows several times over, and past what a row sustains its p99 measures the queue, not the route.", thousands(float64(s.Rate)), thousands(float64(r.postRate())))
	say("\"Over capacity\" marks a rate above the row's slowest closed-loop round.")
	say("Answered is the share of the open loop's requests that got the route's success status (200, or 201 for POST) within vegeta's 10-second timeout.")
	where := ""
	if fs := r.Machine.StoreFS; fs != "" {
		where = " in " + fs
	}
	say("Each handler process has a store file of its own%s: the store locks its file, so that a second process on it, such as a cold start beside a running handler, would fail.", where)
	for _, t := range rows {
		switch t.Server.Key {
		case TasksList:
			say("The list's file holds the tasks created before the first round, and no request of the run adds to it.")
		case TasksCreate:
			say("POST adds a task per request, so each round starts POST's process on a new file and deletes the file after its turn: a file receives one round's checks, warm-up (%s), closed loop (%s) and open loop (%s) only, and every round starts from an empty store.", s.Warmup, s.Duration, s.OpenDuration)
			if t.StoreTasks > 0 {
				say("The largest file reached %s with %s tasks: at most %s bytes a task, since bbolt grows its file ahead of its data (doubling up to 16 MiB, then 16 MiB at a time).", storeSize(t.StoreBytes), thousands(float64(t.StoreTasks)), thousands(float64(t.StoreBytes)/float64(t.StoreTasks)))
			} else {
				say("The largest file reached %s.", storeSize(t.StoreBytes))
			}
		}
	}
	p("%s\n\n", strings.Join(prose, " "))
}

// storeSize formats a file size in MB of 10⁶ bytes, or kB below one MB.
func storeSize(b int64) string {
	switch {
	case b <= 0:
		return "–"
	case b < 1e6:
		return fmt.Sprintf("%.0f kB", float64(b)/1e3)
	default:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
}

func percent(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	s := fmt.Sprintf("%.1f%%", 100*x)
	if x < 1 && strings.HasPrefix(s, "100.") {
		s = "99.9%" // a request lost must not read as none
	}
	return s
}
