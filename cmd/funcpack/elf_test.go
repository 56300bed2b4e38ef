package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// binDir holds this run's files: the small program's source, its build
// for this machine's Go, and the foreign builds unpacked from testdata.
var binDir string

// update rebuilds testdata's foreign builds: go test ./cmd/funcpack -update.
var update = flag.Bool("update", false, "rebuild the foreign builds in testdata/ with this Go")

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "funcpack-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tinySource is the small program the ELF tests build for each target.
const tinySource = "package main\n\nfunc main() {}\n"

// foreignTargets are the builds the checks must refuse, as GOOS_GOARCH
// (an amd64 level after a further _). Building one compiles Go's runtime
// for that target, about 10 s of CPU each on a cold cache, so they are
// built once, with -update, and kept in testdata/ as tiny_<target>.gz:
// hollowed (hollow), a few kilobytes each. Only linux/amd64, whose
// runtime every other build here compiles anyway, is built on each run.
var foreignTargets = []string{"linux_arm64", "dragonfly_amd64", "linux_amd64_v3"}

var (
	tinyMu    sync.Mutex
	tinyBuilt = map[string]string{}
)

// tinyBinary returns a small Go program for goos/goarch (goarch may name
// an amd64 level, as in "amd64/v3"), built with cgo off as the Makefile's
// package target builds the handler: linux/amd64 built now, a foreign
// target unpacked from testdata/ (rebuilt there first with -update).
// Callers only read it.
func tinyBinary(t *testing.T, goos, goarch string) string {
	t.Helper()
	tinyMu.Lock()
	defer tinyMu.Unlock()
	key := goos + "_" + strings.ReplaceAll(goarch, "/", "_")
	if p, ok := tinyBuilt[key]; ok {
		return p
	}
	out := filepath.Join(binDir, "tiny_"+key)
	switch {
	case key == "linux_amd64":
		buildTiny(t, key, out)
	case slices.Contains(foreignTargets, key):
		fixture := filepath.Join("testdata", "tiny_"+key+".gz")
		if *update {
			buildTiny(t, key, out)
			writeFixture(t, out, fixture)
		}
		unpackFixture(t, fixture, out)
	default:
		t.Fatalf("no build of the small program for %s: add it to foreignTargets", key)
	}
	tinyBuilt[key] = out
	return out
}

// buildTiny builds tinySource for key (GOOS_GOARCH[_level]) into out.
func buildTiny(t *testing.T, key, out string) {
	t.Helper()
	src := filepath.Join(binDir, "tiny.go")
	if err := os.WriteFile(src, []byte(tinySource), 0o644); err != nil {
		t.Fatal(err)
	}
	goos, goarch, _ := strings.Cut(key, "_")
	arch, level, _ := strings.Cut(goarch, "_")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, src)
	cmd.Dir = binDir
	// Whatever the shell exports for other projects must not change the
	// build (as in the Makefile).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch, "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	if level != "" {
		cmd.Env = append(cmd.Env, "GOAMD64="+level)
	} else if arch == "amd64" {
		cmd.Env = append(cmd.Env, "GOAMD64=v1")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a %s program: %v\n%s", key, err, b)
	}
}

// keptSections are the sections a hollowed build keeps: what debug/elf and
// debug/buildinfo read, and so what checkExecutable can look at.
var keptSections = []string{".go.buildinfo", ".note.go.buildid", ".shstrtab", ".interp", ".dynamic", ".dynstr"}

// hollow zeroes every byte of a 64-bit little-endian ELF file but its
// header, program headers, section headers and keptSections: the code and
// data go, the file keeps its size and layout, and it compresses to a few
// kilobytes.
func hollow(b []byte) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || len(b) < 64 {
		return nil, fmt.Errorf("not a 64-bit little-endian ELF file")
	}
	le := binary.LittleEndian
	phoff, shoff := le.Uint64(b[0x20:]), le.Uint64(b[0x28:])
	phEnd := phoff + uint64(le.Uint16(b[0x36:]))*uint64(le.Uint16(b[0x38:]))
	shEnd := shoff + uint64(le.Uint16(b[0x3a:]))*uint64(le.Uint16(b[0x3c:]))
	keep := [][2]uint64{{0, 64}, {phoff, phEnd}, {shoff, shEnd}}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && slices.Contains(keptSections, s.Name) {
			keep = append(keep, [2]uint64{s.Offset, s.Offset + s.FileSize})
		}
	}
	out := make([]byte, len(b))
	for _, r := range keep {
		if r[0] > r[1] || r[1] > uint64(len(b)) {
			return nil, fmt.Errorf("range %d-%d outside the file", r[0], r[1])
		}
		copy(out[r[0]:r[1]], b[r[0]:r[1]])
	}
	return out, nil
}

// writeFixture hollows the build at path and writes it gzipped to fixture.
func writeFixture(t *testing.T, path, fixture string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = hollow(b); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixture, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// unpackFixture writes the gzipped fixture's contents to out.
func unpackFixture(t *testing.T, fixture, out string) {
	t.Helper()
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatalf("%v: go test ./cmd/funcpack -update builds it", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestForeignFixtures: each build kept in testdata/ is what its name says,
// by its ELF header and its Go build information, so that the refusals
// below are tested on the builds they name.
func TestForeignFixtures(t *testing.T) {
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, key := range foreignTargets {
		t.Run(key, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(key, "_")
			arch, level, _ := strings.Cut(goarch, "_")
			path := tinyBinary(t, goos, strings.ReplaceAll(goarch, "_", "/"))
			f, err := elf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != machines[arch] || f.Type != elf.ET_EXEC {
				t.Errorf("ELF %v %v, want %v ET_EXEC", f.Machine, f.Type, machines[arch])
			}
			bi, err := buildinfo.ReadFile(path)
			if err != nil {
				t.Fatalf("no Go build information: %v", err)
			}
			if !strings.HasPrefix(bi.GoVersion, "go1.") {
				t.Errorf("Go version %q", bi.GoVersion)
			}
			want := map[string]string{"GOOS": goos, "GOARCH": arch, "CGO_ENABLED": "0", "-trimpath": "true"}
			if arch == "amd64" {
				want["GOAMD64"] = cmp.Or(level, "v1")
			}
			for _, s := range bi.Settings {
				if w, ok := want[s.Key]; ok {
					if s.Value != w {
						t.Errorf("build setting %s=%s, want %s", s.Key, s.Value, w)
					}
					delete(want, s.Key)
				}
			}
			if len(want) > 0 {
				t.Errorf("build settings %v missing from %v", want, bi.Settings)
			}
		})
	}
}

// TestHollowKeepsWhatTheChecksRead: a hollowed build of this machine's
// small program gets the same verdict as the build itself, and keeps only
// a sliver of its bytes.
func TestHollowKeepsWhatTheChecksRead(t *testing.T) {
	path := tinyBinary(t, "linux", "amd64")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hollow(b)
	if err != nil {
		t.Fatal(err)
	}
	hp := writeTemp(t, "hollow", h)
	if got, want := fmt.Sprint(checkExecutable(hp)), fmt.Sprint(checkExecutable(path)); got != want {
		t.Errorf("hollowed: %s\nbuilt: %s", got, want)
	}
	if bi, err := buildinfo.ReadFile(hp); err != nil || bi.GoVersion != runtime.Version() {
		t.Errorf("hollowed build information: %v, %v", bi, err)
	}
	if n := len(b) - bytes.Count(h, []byte{0}); n > len(b)/20 {
		t.Errorf("hollowed build keeps %d of %d bytes non-zero", n, len(b))
	}
	if _, err := hollow([]byte("#!/bin/sh\n")); err == nil {
		t.Error("hollow took a script")
	}
}

// fakeELF is an ELF file with only a header and program headers: enough
// for the checks, which read no code.
type fakeELF struct {
	class   elf.Class
	machine elf.Machine
	osabi   elf.OSABI
	typ     elf.Type
	interp  string // a PT_INTERP segment, if not empty
	needed  int    // DT_NEEDED entries in a PT_DYNAMIC segment
}

func (f fakeELF) bytes(t *testing.T) []byte {
	t.Helper()
	if f.class == elf.ELFCLASS32 {
		// A 32-bit header is enough to show the class is refused.
		var b bytes.Buffer
		h := elf.Header32{Type: uint16(f.typ), Machine: uint16(f.machine), Version: 1, Ehsize: 52, Phentsize: 32}
		copy(h.Ident[:], elf.ELFMAG)
		h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION], h.Ident[elf.EI_OSABI] = byte(elf.ELFCLASS32), byte(elf.ELFDATA2LSB), 1, byte(f.osabi)
		binary.Write(&b, binary.LittleEndian, h)
		return b.Bytes()
	}
	var data bytes.Buffer
	var progs []elf.Prog64
	const hdr, phent = 64, 56
	nprog := 0
	if f.interp != "" {
		nprog++
	}
	if f.needed > 0 {
		nprog++
	}
	base := uint64(hdr + phent*nprog)
	if f.interp != "" {
		s := f.interp + "\x00"
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Off: base + uint64(data.Len()), Filesz: uint64(len(s)), Memsz: uint64(len(s)), Align: 1})
		data.WriteString(s)
	}
	if f.needed > 0 {
		var dyn bytes.Buffer
		for i := range f.needed {
			binary.Write(&dyn, binary.LittleEndian, elf.Dyn64{Tag: int64(elf.DT_NEEDED), Val: uint64(i + 1)})
		}
		binary.Write(&dyn, binary.LittleEndian, elf.Dyn64{Tag: int64(elf.DT_NULL)})
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_DYNAMIC), Flags: uint32(elf.PF_R), Off: base + uint64(data.Len()), Filesz: uint64(dyn.Len()), Memsz: uint64(dyn.Len()), Align: 8})
		data.Write(dyn.Bytes())
	}
	h := elf.Header64{
		Type: uint16(f.typ), Machine: uint16(f.machine), Version: 1,
		Phoff: hdr, Ehsize: hdr, Phentsize: phent, Phnum: uint16(len(progs)), Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION], h.Ident[elf.EI_OSABI] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1, byte(f.osabi)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h)
	for _, p := range progs {
		binary.Write(&b, binary.LittleEndian, p)
	}
	b.Write(data.Bytes())
	return b.Bytes()
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckExecutableGoodBuild(t *testing.T) {
	if errs := checkExecutable(tinyBinary(t, "linux", "amd64")); len(errs) > 0 {
		t.Errorf("a CGO_ENABLED=0 linux/amd64 build is refused: %v", errs)
	}
	// Only the header matters: a static x86-64 Linux ELF from elsewhere is
	// as good.
	static := fakeELF{class: elf.ELFCLASS64, machine: elf.EM_X86_64, typ: elf.ET_EXEC}
	if errs := checkExecutable(writeTemp(t, "static", static.bytes(t))); len(errs) > 0 {
		t.Errorf("a static x86-64 ELF is refused: %v", errs)
	}
}

// TestCheckExecutableRefuses: each wrong binary is refused with a message
// that says what it is and what to do.
func TestCheckExecutableRefuses(t *testing.T) {
	amd64 := fakeELF{class: elf.ELFCLASS64, machine: elf.EM_X86_64, typ: elf.ET_EXEC}
	dynamic := amd64
	dynamic.interp, dynamic.needed = "/lib64/ld-linux-x86-64.so.2", 2
	freebsd := amd64
	freebsd.osabi = elf.ELFOSABI_FREEBSD
	object := amd64
	object.typ = elf.ET_REL
	i386 := fakeELF{class: elf.ELFCLASS32, machine: elf.EM_386, typ: elf.ET_EXEC}
	tests := []struct {
		name string
		file func(t *testing.T) string
		n    int      // problems
		want []string // what they say, together
	}{
		{"GOAMD64=v3 build", func(t *testing.T) string { return tinyBinary(t, "linux", "amd64/v3") },
			1, []string{"GOAMD64=v3", "not every Azure host CPU"}},
		{"linux/arm64 build", func(t *testing.T) string { return tinyBinary(t, "linux", "arm64") },
			1, []string{"EM_AARCH64 (GOARCH=arm64), but Azure Functions on Linux runs x86-64", "GOARCH=amd64"}},
		// DragonFly's ELF header looks like Linux's; the Go build info
		// tells them apart.
		{"dragonfly/amd64 build", func(t *testing.T) string { return tinyBinary(t, "dragonfly", "amd64") },
			1, []string{"GOOS=dragonfly, not linux"}},
		{"32-bit x86", func(t *testing.T) string { return writeTemp(t, "x", i386.bytes(t)) },
			1, []string{"32-bit EM_386 (GOARCH=386)"}},
		{"dynamically linked", func(t *testing.T) string { return writeTemp(t, "x", dynamic.bytes(t)) },
			2, []string{"dynamically linked (it needs the program interpreter /lib64/ld-linux-x86-64.so.2", "needs shared libraries (2, names unreadable)"}},
		{"FreeBSD ABI", func(t *testing.T) string { return writeTemp(t, "x", freebsd.bytes(t)) },
			1, []string{"ELF OS ABI ELFOSABI_FREEBSD"}},
		{"object file", func(t *testing.T) string { return writeTemp(t, "x", object.bytes(t)) },
			1, []string{"ELF ET_REL file, not an executable"}},
		{"Windows build", func(t *testing.T) string { return writeTemp(t, "x", []byte("MZ\x90\x00rest of a PE file")) },
			1, []string{"a Windows executable (PE), not a Linux ELF executable: build it with make package"}},
		{"macOS build", func(t *testing.T) string { return writeTemp(t, "x", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}) },
			1, []string{"a macOS executable (Mach-O)"}},
		{"script", func(t *testing.T) string { return writeTemp(t, "x", []byte("#!/bin/sh\nexec ./handler.real\n")) },
			1, []string{"a script"}},
		{"text", func(t *testing.T) string { return writeTemp(t, "x", []byte("not a program at all")) },
			1, []string{"not an executable this tool knows"}},
		{"empty", func(t *testing.T) string { return writeTemp(t, "x", nil) },
			1, []string{"is not an ELF executable (0 bytes)"}},
		{"truncated ELF", func(t *testing.T) string { return writeTemp(t, "x", []byte("\x7fELF\x02\x01")) },
			1, []string{"not a valid ELF file"}},
		{"folder", func(t *testing.T) string { return t.TempDir() },
			1, []string{"is not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkExecutable(tt.file(t))
			if len(errs) != tt.n {
				t.Errorf("got %d problems %v, want %d", len(errs), errs, tt.n)
			}
			all := fmt.Sprint(errs)
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %v do not say %q", errs, w)
				}
			}
		})
	}
}

// TestCheckExecutableHostBinary: a real dynamically linked x86-64 program
// from this machine, whose libraries are named from its sections.
func TestCheckExecutableHostBinary(t *testing.T) {
	var file string
	for _, p := range []string{"/bin/true", "/usr/bin/true", "/bin/sh"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		_, hasInterp := interpreter(f)
		if f.Machine == elf.EM_X86_64 && hasInterp {
			file = p
		}
		f.Close()
		if file != "" {
			break
		}
	}
	if file == "" {
		t.Skip("no dynamically linked x86-64 program on this machine")
	}
	all := fmt.Sprint(checkExecutable(file))
	for _, w := range []string{"dynamically linked", "needs shared libraries (libc.so"} {
		if !strings.Contains(all, w) {
			t.Errorf("%s: problems %s do not say %q", file, all, w)
		}
	}
}
