package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// check validates the configuration and prints the effective settings.
// It lists every problem at once and fails if there is any.
func check(getenv func(string) string, stdout io.Writer) error {
	cfg, errs := readConfig(getenv)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, s := range cfg.settings() {
		fmt.Fprintf(tw, "%s\t%s\n", s[0], s[1])
	}
	tw.Flush()
	if err := problems(errs); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "configuration OK")
	return nil
}

// problemsError lists configuration problems one per line.
type problemsError struct{ errs []error }

func (e problemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d configuration problem(s):", len(e.errs))
	for _, err := range e.errs {
		b.WriteString("\n  - " + err.Error())
	}
	return b.String()
}

func (e problemsError) Unwrap() []error { return e.errs }

// problems returns nil for no errors, else one error listing them all.
func problems(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return problemsError{errs: errs}
}
