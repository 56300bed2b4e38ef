package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/entrafunc/entrafunc/tasks"
	"github.com/entrafunc/entrafunc/tasks/azuretable"
	"github.com/entrafunc/entrafunc/tasks/bolt"
)

// The stores TASKS_STORE names.
const (
	storeEmbedded = "embedded" // bbolt, one file on this machine
	storeTables   = "tables"   // Azure Table storage
)

// tasksConfig is where the Tasks function keeps its data, and the app's
// public address for the links it gives.
type tasksConfig struct {
	Store       string
	StoreReason string
	// File is the embedded store's file (TASKS_STORE_FILE).
	File string
	// Tables are the Table storage settings (TASKS_CONNECTION, TASKS_TABLE
	// and the connection's own), for the tables store.
	Tables azuretable.Settings
	// BaseURL is https:// and WEBSITE_HOSTNAME in Azure, for absolute
	// links; "" elsewhere, where links are relative.
	BaseURL string

	// problems are the section's, which only the commands that serve
	// and check report (readConfig).
	problems []error
}

// hostname reports whether s is a host name with an optional port, as
// WEBSITE_HOSTNAME holds one: letters, digits, dots and hyphens, not
// starting or ending with a dot or hyphen, at most 253 characters, then
// perhaps a colon and up to 5 digits. Nothing that could carry a path, a
// query or user information.
func hostname(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && (len(port) < 1 || len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return false
	}
	if len(host) < 1 || len(host) > 253 {
		return false
	}
	for i := range len(host) {
		c := host[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (c == '.' || c == '-') && i > 0 && i < len(host)-1
		if !ok {
			return false
		}
	}
	return true
}

// readTasks reads the Tasks store's settings. The embedded store is the
// default outside Azure and refused in it, where instances share no disk
// and scale out; Table storage is the default in Azure. The embedded
// store's file is, by default, beside the development key (devKeyFile,
// in dev mode) or in the same per-user folder.
func readTasks(getenv func(string) string, p platform, devKeyFile string) (t tasksConfig) {
	var errs []error
	defer func() { t.problems = errs }() // on the named result
	switch v := strings.TrimSpace(getenv("TASKS_STORE")); {
	case v == "" && p.InAzure():
		t.Store, t.StoreReason = storeTables, "the default in Azure ("+p.Why()+")"
	case v == "":
		t.Store, t.StoreReason = storeEmbedded, "the default outside Azure"
	case v == storeEmbedded || v == storeTables:
		t.Store, t.StoreReason = v, "TASKS_STORE="+v
	default:
		errs = append(errs, fmt.Errorf("TASKS_STORE=%s is not one of %s, %s", shown(v), storeEmbedded, storeTables))
		return t
	}
	if p.InAzure() {
		if h := strings.TrimSpace(getenv("WEBSITE_HOSTNAME")); hostname(h) {
			t.BaseURL = "https://" + strings.ToLower(h)
		}
	}
	switch t.Store {
	case storeEmbedded:
		if p.InAzure() {
			errs = append(errs, errors.New("TASKS_STORE=embedded refuses to run in Azure ("+p.Why()+"): each instance would keep its own file, and a user's tasks would depend on the instance that answers; use TASKS_STORE=tables"))
		}
		t.File = strings.TrimSpace(getenv("TASKS_STORE_FILE"))
		switch {
		case t.File != "" && !filepath.IsAbs(t.File):
			errs = append(errs, fmt.Errorf("TASKS_STORE_FILE=%s is not an absolute path: the store is never made relative to the current directory (perhaps this repository, or the package published from it)", shown(t.File)))
		case t.File == "" && devKeyFile != "" && filepath.IsAbs(devKeyFile):
			// Beside the development key: the same private folder.
			t.File = filepath.Join(filepath.Dir(devKeyFile), "tasks.db")
		case t.File == "":
			dir, err := userConfigDir(getenv)
			if err != nil {
				errs = append(errs, fmt.Errorf("the embedded tasks store needs TASKS_STORE_FILE: %w", err))
			} else {
				t.File = filepath.Join(dir, "entrafunc", "tasks.db")
			}
		}
	case storeTables:
		s, err := azuretable.ReadSettings(getenv)
		t.Tables = s
		if err != nil {
			errs = append(errs, err)
		}
	}
	return t
}

// openTasks opens the configured store and the service over it, without
// any network call: Table storage is first reached by the first request,
// and the table is created then if it is missing. The closer releases the
// embedded store's file; call it once the server has drained.
func openTasks(t tasksConfig) (*tasks.Service, io.Closer, error) {
	var store tasks.Store
	var closer io.Closer = noClose{} // Table storage holds nothing open
	switch t.Store {
	case storeEmbedded:
		// Private to the user, as the development key's folder is.
		if err := os.MkdirAll(filepath.Dir(t.File), 0o700); err != nil {
			return nil, nil, fmt.Errorf("tasks store: %w", err)
		}
		b, err := bolt.Open(t.File)
		if err != nil {
			return nil, nil, err
		}
		store, closer = b, b
	case storeTables:
		s, err := azuretable.Open(t.Tables, azuretable.Options{})
		if err != nil {
			return nil, nil, err
		}
		store = s
	default:
		return nil, nil, fmt.Errorf("no tasks store %q", t.Store)
	}
	return tasks.NewService(store, tasks.Options{}), closer, nil
}

// noClose is the closer of a store with nothing to release.
type noClose struct{}

func (noClose) Close() error { return nil }

// description is the store as handler check and the start-up log show it,
// without secrets.
func (t tasksConfig) description() string {
	switch t.Store {
	case storeEmbedded:
		return storeEmbedded + " " + t.File
	case storeTables:
		return storeTables + ": " + t.Tables.String()
	}
	return "(unset)"
}
