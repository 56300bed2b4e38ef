package main

import (
	"fmt"
	"path"
	"strings"
)

// checkAdmitted returns a refusal for each file that would ship although
// .funcignore meant to keep it out, which Core Tools' reading of the file
// allows in two ways (see funcignore):
//
//   - A ! line lets in every path it matches the start of, up to a word
//     boundary: "!host.json" also admits host.json.bak and host.json~,
//     "!Me/function.json" a folder Me/function.json.d/ with an .env in
//     it. An exception wins over every exclusion, so no line can keep such
//     a file out. funcpack refuses a file that a ! line lets in without
//     matching its whole path, when an exclusion (or the allow-list's *)
//     would otherwise have kept it out; a file nothing excludes ships
//     whatever the ! lines say, and is no line's doing.
//   - In an allow-list (a line "*", then ! lines), * misses a path whose
//     first name holds no ASCII letter, digit or _: a folder "~" or "-", a
//     file "...", a folder named in another script. funcpack refuses every
//     file an allow-list ships that no ! line names whole.
//
// publish would ship each of these files; the refusal names the file and
// the lines that let it in. exe is host.json's executable, "" if unknown:
// a file such as handler.exe beside it is refused whatever .funcignore
// says, as before, since Core Tools' "!handler" would let it in.
func checkAdmitted(files []entry, ig *funcignore, exe string) []error {
	var errs []error
	star, allowList := ig.allowListLine()
	for _, f := range files {
		exact, prefix := ig.admittedBy(f.name)
		if exact {
			continue
		}
		where := ""
		beside := exe != "" && besideExecutable(f.name, exe)
		if beside {
			where = " beside the handler"
		}
		_, excluded := ig.matchingExclude(f.name)
		switch {
		case len(prefix) > 0 && (excluded || allowList):
			errs = append(errs, fmt.Errorf("%s would ship%s: .funcignore %s the start of its path only, and publish (Core Tools) lets a file in on such a match, so no line can keep it out: delete, move or rename it", show(f.name), where, describeLines(prefix)))
		case allowList:
			errs = append(errs, fmt.Errorf("%s would ship: no ! line in .funcignore names it, and line %d (%s) misses it, since Core Tools' * needs an ASCII letter, digit or _ in the first name of the path; publish would ship it too: delete, move or rename it", show(f.name), star.line, show(star.text)))
		case beside:
			errs = append(errs, fmt.Errorf("%s would ship beside the handler (.funcignore cannot exclude a file whose name starts with %s followed by a non-word character): delete or move it", show(f.name), show(exe)))
		}
	}
	return errs
}

// besideExecutable reports whether name starts with exe and then a
// character that ends a word there, which Core Tools' "!exe" matches.
func besideExecutable(name, exe string) bool {
	return name != exe && strings.HasPrefix(name, exe) && name[len(exe)] != '/' && !isWordByte(name[len(exe)])
}

// describeLines names the lines, number and text, as the subject of
// "match(es)".
func describeLines(ps []ignorePattern) string {
	if len(ps) == 1 {
		return fmt.Sprintf("line %d (%s) matches", ps[0].line, show(ps[0].text))
	}
	var b strings.Builder
	b.WriteString("lines ")
	for i, p := range ps {
		switch {
		case i == len(ps)-1:
			b.WriteString(" and ")
		case i > 0:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d (%s)", p.line, show(p.text))
	}
	b.WriteString(" match")
	return b.String()
}

// checkNames returns a refusal for each name in the package that an
// extractor could write somewhere else or a terminal show as another (see
// nameProblem), and for each pair that differs only in letter case.
func checkNames(files []entry) []error {
	var errs []error
	var names []string
	seen := map[string]bool{}
	for _, f := range files {
		if p := nameProblem(f.name); p != "" {
			errs = append(errs, fmt.Errorf("%s would ship, but its name %s: rename it or delete it", show(f.name), p))
		}
		// The folders first, so that a folder clashes with a folder.
		var chain []string
		for d := path.Dir(f.name); d != "." && d != "/"; d = path.Dir(d) {
			chain = append([]string{d}, chain...)
		}
		for _, n := range append(chain, f.name) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	for _, c := range caseClashes(names) {
		errs = append(errs, fmt.Errorf("%s and %s would both ship, but differ only in letter case: Azure Files and Windows or macOS folders ignore case, so one would overwrite or merge into the other; rename one", show(c[0]), show(c[1])))
	}
	return errs
}
