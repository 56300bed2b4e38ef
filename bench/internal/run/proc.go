package run

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/entrafunc/entrafunc/bench/internal/load"
)

// server is how to start one of the servers measured, and what it is
// measured with.
type server struct {
	key, name, what string
	// auth says the server checks the token; the ceiling does not.
	auth bool
	bin  string
	args []string
	dir  string
	// env is the process's whole environment for port and its tasks
	// store file: nothing of the benchmark's own environment leaks in but
	// PATH.
	env func(port int, storeFile string) []string
	// storeDir, when set, is where each process of the server gets a
	// tasks store file of its own: the embedded store takes a lock on its
	// file, so that a cold start beside the running process, or two
	// handlers, on one file would fail at once.
	storeDir string

	// req is what the server is measured with (the closed and open
	// loops and the warm-up; the authorization header is added), and
	// route names it in the report when it is not Hello.
	req   load.Target
	route string
	// setup prepares a started, checked process before it is measured
	// (the Tasks list's tasks) and checks the route; it returns how many
	// requests it sent.
	setup func(ctx context.Context, p *proc, tok string) (int64, error)
	// perRound starts the server for each round, on a new store file,
	// and stops it (deleting the file) at the end of its turn, rather
	// than keeping one process for the run: POST /api/tasks grows its
	// store with every request.
	perRound bool
}

// proc is a running server.
type proc struct {
	srv  server
	port int
	cmd  *exec.Cmd
	done chan struct{}
	err  error // of Wait, once done is closed

	lines, bytes atomic.Int64 // of stdout, drained as it comes
	drained      chan struct{}
	stderr       *tailBuffer
	// cpu, when set, is credited with the process's CPU time once it has
	// exited: the run's own CPU, to tell it from other processes'.
	cpu *atomic.Int64
	// store is the process's tasks store file, "" for none; stop deletes
	// it once the process has exited, and storeBytes is its size then.
	store      string
	storeBytes int64
	// tasks counts the tasks created in the store.
	tasks int64
}

// storeSeq numbers the store files of a run: one per process.
var storeSeq atomic.Int64

// start runs srv on a free port. Its stdout is a pipe the benchmark
// drains, as the Functions host reads a handler's: that is where the
// per-request log lines go, and a pipe costs the writer a copy and a
// wake-up that /dev/null would not.
func start(srv server, cpu *atomic.Int64) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := &proc{srv: srv, port: port, done: make(chan struct{}), drained: make(chan struct{}), stderr: &tailBuffer{max: 8 << 10}, cpu: cpu}
	if srv.storeDir != "" {
		p.store = filepath.Join(srv.storeDir, fmt.Sprintf("%s-%d.db", srv.key, storeSeq.Add(1)))
	}
	p.cmd = exec.Command(srv.bin, srv.args...)
	p.cmd.Dir = srv.dir
	p.cmd.Env = srv.env(port, p.store)
	p.cmd.Stdout = w
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("%s: %w", srv.name, err)
	}
	w.Close() // the child holds the write end now
	go p.drain(r)
	go func() {
		p.err = p.cmd.Wait()
		if p.cpu != nil && p.cmd.ProcessState != nil {
			p.cpu.Add(int64(p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()))
		}
		close(p.done)
	}()
	return p, nil
}

// drain reads stdout in large chunks and counts its lines.
func (p *proc) drain(r *os.File) {
	defer close(p.drained)
	defer r.Close()
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			p.bytes.Add(int64(n))
			p.lines.Add(int64(bytes.Count(buf[:n], []byte{'\n'})))
		}
		if err != nil {
			return
		}
	}
}

func (p *proc) base() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *proc) addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// waitListening polls GET / as the Functions host does until any HTTP
// answer, every interval, for at most limit.
func (p *proc) waitListening(interval, limit time.Duration) error {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(p.base() + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it answered: %v\n%s", p.srv.name, p.err, p.stderr)
		case <-time.After(interval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer GET / within %v\n%s", p.srv.name, limit, p.stderr)
		}
	}
}

// stop sends SIGTERM, waits for the exit and the end of stdout, and kills
// a server that takes longer than 10 seconds. Then it deletes the
// process's store file, noting its size.
func (p *proc) stop() {
	defer p.removeStore()
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	select {
	case <-p.drained:
	case <-time.After(5 * time.Second): // a grandchild holding the pipe
	}
}

func (p *proc) removeStore() {
	if p.store == "" {
		return
	}
	if st, err := os.Stat(p.store); err == nil {
		p.storeBytes = st.Size()
	}
	os.Remove(p.store)
	p.store = ""
}

// storeSize is the size of the store file now, or after stop the size it
// had then.
func (p *proc) storeSize() int64 {
	if p.store == "" {
		return p.storeBytes
	}
	if st, err := os.Stat(p.store); err == nil {
		return st.Size()
	}
	return 0
}

// memory reads VmRSS and VmHWM, in kB, from /proc/PID/status.
func (p *proc) memory() (rss, hwm uint64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (rss, hwm uint64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	found := 0
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "VmRSS" && name != "VmHWM" {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc status: %s:%s", name, value)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if name == "VmRSS" {
			rss = n
		} else {
			hwm = n
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("/proc status: no VmRSS or VmHWM")
	}
	return rss, hwm, nil
}

// sampleRSS samples VmRSS every interval until stop is closed, and
// returns the largest.
func (p *proc) sampleRSS(interval time.Duration, stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if rss, _, err := p.memory(); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-stop:
				if rss, _, err := p.memory(); err == nil {
					peak = max(peak, rss)
				}
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written: a server's stderr, for the
// error that says why it failed.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// cpuTimes reads the machine's busy CPU time, all cores added, from
// /proc/stat: user, nice and system. Interrupt and softirq time are left
// out, since loopback traffic's share of them belongs to no process and
// would read as another process's work.
func cpuTimes() (busy time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: %q", line)
	}
	var ticks uint64
	for _, v := range f[1:4] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// selfCPU is this process's own user and system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux
// architecture Go supports.
const clockTicks = 100
