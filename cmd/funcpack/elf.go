package main

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// buildHint is how to get a binary the host can run: Core Tools does no
// build for a custom handler, it ships whatever file is there.
const buildHint = "build it with make package (CGO_ENABLED=0 GOOS=linux GOARCH=amd64)"

// checkExecutable returns every reason the file at file cannot be the
// custom handler of a Linux amd64 function app: it must be an x86-64 ELF
// executable for Linux, and static, because the host image promises no
// particular libc (a cgo build that works here may not start there, and
// the host then reports only that the worker failed to start).
func checkExecutable(file string) []error {
	f, err := os.Open(file)
	if err != nil {
		return []error{pathError(err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return []error{pathError(err)}
	}
	// The name may come from anywhere (-root): printed as show prints it.
	name := show(file)
	if !fi.Mode().IsRegular() {
		return []error{fmt.Errorf("%s is not a regular file", name)}
	}
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return []error{fmt.Errorf("%s is not an ELF executable (%d bytes): %s", name, fi.Size(), buildHint)}
	}
	if string(magic[:]) != elf.ELFMAG {
		return []error{fmt.Errorf("%s is %s, not a Linux ELF executable: %s", name, describeMagic(magic[:]), buildHint)}
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return []error{fmt.Errorf("%s is not a valid ELF file: %v", name, err)}
	}
	defer ef.Close()

	var errs []error
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 {
		errs = append(errs, fmt.Errorf("%s is built for %s, but Azure Functions on Linux runs x86-64 (GOARCH=amd64): %s", name, describeMachine(ef), buildHint))
	}
	osOK := ef.OSABI == elf.ELFOSABI_NONE || ef.OSABI == elf.ELFOSABI_LINUX
	if !osOK {
		errs = append(errs, fmt.Errorf("%s is built for another system (ELF OS ABI %v), not Linux (GOOS=linux): %s", name, ef.OSABI, buildHint))
	}
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		errs = append(errs, fmt.Errorf("%s is an ELF %v file, not an executable", name, ef.Type))
	}
	if interp, ok := interpreter(ef); ok {
		errs = append(errs, fmt.Errorf("%s is dynamically linked (it needs the program interpreter %s, which the host may not have): %s", name, show(interp), buildHint))
	}
	if libs := neededLibraries(ef); len(libs) > 0 {
		errs = append(errs, fmt.Errorf("%s needs shared libraries (%s): %s", name, strings.Join(libs, ", "), buildHint))
	}
	// Some systems' binaries (DragonFly's) carry no OS ABI in the header,
	// but a Go binary names the system it was built for.
	if bi, err := buildinfo.ReadFile(file); err == nil && osOK {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "GOOS" && s.Value != "linux":
				errs = append(errs, fmt.Errorf("%s is a Go binary built for GOOS=%s, not linux: %s", name, show(s.Value), buildHint))
			case s.Key == "-buildmode" && s.Value != "exe" && s.Value != "pie" && s.Value != "default":
				errs = append(errs, fmt.Errorf("%s is a Go %s build, not an executable: %s", name, show(s.Value), buildHint))
			case s.Key == "GOAMD64" && s.Value != "v1" && s.Value != "v2":
				// v3 and v4 need AVX2 or AVX-512: the binary dies with an
				// illegal instruction on a host CPU without them.
				errs = append(errs, fmt.Errorf("%s is built with GOAMD64=%s, which not every Azure host CPU runs: build with GOAMD64=v1 (make package does)", name, show(s.Value)))
			}
		}
	}
	return errs
}

// describeMagic names the kind of file the first bytes belong to, for the
// usual mistakes: a Windows or macOS build, or a wrapper script.
func describeMagic(m []byte) string {
	switch {
	case bytes.HasPrefix(m, []byte("MZ")):
		return "a Windows executable (PE)"
	case bytes.HasPrefix(m, []byte("#!")):
		return "a script"
	}
	switch binary.BigEndian.Uint32(m) {
	case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe:
		return "a macOS executable (Mach-O)"
	}
	return "not an executable this tool knows"
}

// describeMachine names the architecture as GOARCH does where it can.
func describeMachine(f *elf.File) string {
	goarch := map[elf.Machine]string{
		elf.EM_386:       "386",
		elf.EM_ARM:       "arm",
		elf.EM_AARCH64:   "arm64",
		elf.EM_RISCV:     "riscv64",
		elf.EM_PPC64:     "ppc64",
		elf.EM_S390:      "s390x",
		elf.EM_MIPS:      "mips",
		elf.EM_LOONGARCH: "loong64",
		elf.EM_X86_64:    "amd64",
	}[f.Machine]
	bits := "64-bit"
	if f.Class == elf.ELFCLASS32 {
		bits = "32-bit"
	}
	if goarch != "" {
		return fmt.Sprintf("%s %s (GOARCH=%s)", bits, f.Machine, goarch)
	}
	return fmt.Sprintf("%s %s", bits, f.Machine)
}

// interpreter returns the program interpreter a dynamically linked
// executable names in its PT_INTERP segment.
func interpreter(f *elf.File) (string, bool) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Open(), 4096))
		if err != nil || len(b) == 0 {
			return "(unreadable)", true
		}
		return string(bytes.TrimRight(b, "\x00")), true
	}
	return "", false
}

// neededLibraries returns the shared libraries the executable's dynamic
// segment asks for (its DT_NEEDED entries). The segment is read from the
// program headers, which the loader uses, because section headers can be
// stripped; the names come from the sections when they are there.
func neededLibraries(f *elf.File) []string {
	count := 0
	for _, p := range f.Progs {
		if p.Type != elf.PT_DYNAMIC {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Open(), 1<<20))
		if err != nil && !errors.Is(err, io.EOF) {
			continue
		}
		size, word := 16, 8
		if f.Class == elf.ELFCLASS32 {
			size, word = 8, 4
		}
		for ; len(b) >= size; b = b[size:] {
			var tag uint64
			if word == 8 {
				tag = f.ByteOrder.Uint64(b)
			} else {
				tag = uint64(f.ByteOrder.Uint32(b))
			}
			if elf.DynTag(tag) == elf.DT_NULL {
				break
			}
			if elf.DynTag(tag) == elf.DT_NEEDED {
				count++
			}
		}
	}
	if count == 0 {
		return nil
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		// Names read from the binary, printed as show prints paths.
		for i, l := range libs {
			libs[i] = show(l)
		}
		return libs
	}
	return []string{fmt.Sprintf("%d, names unreadable", count)}
}
