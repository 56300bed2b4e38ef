package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadTasks(t *testing.T) {
	azure := env{"WEBSITE_INSTANCE_ID": "abc", "WEBSITE_SITE_NAME": "app", "WEBSITE_HOSTNAME": "App.azurewebsites.net"}
	with := func(base env, kv ...string) env {
		out := env{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	home := env{"HOME": "/home/u"}
	tests := []struct {
		name    string
		env     env
		devKey  string
		store   string
		file    string
		baseURL string
		problem string
	}{
		{name: "the embedded store by default outside Azure", env: home, store: "embedded", file: "/home/u/.config/entrafunc/tasks.db"},
		{name: "beside the development key", env: home, devKey: "/keys/k.pem", store: "embedded", file: "/keys/tasks.db"},
		{name: "TASKS_STORE_FILE", env: with(home, "TASKS_STORE_FILE", "/data/t.db"), store: "embedded", file: "/data/t.db"},
		{name: "a relative TASKS_STORE_FILE", env: with(home, "TASKS_STORE_FILE", "t.db"), store: "embedded", problem: "not an absolute path"},
		{name: "no place for the file", env: env{}, store: "embedded", problem: "TASKS_STORE_FILE"},
		{name: "an unknown store", env: with(home, "TASKS_STORE", "sqlite"), problem: `TASKS_STORE="sqlite" is not one of`},
		{name: "Table storage by default in Azure", env: with(azure, "AzureWebJobsStorage__accountName", "acct"), store: "tables", baseURL: "https://app.azurewebsites.net"},
		{name: "the embedded store refused in Azure", env: with(azure, "TASKS_STORE", "embedded", "TASKS_STORE_FILE", "/d/t.db"), store: "embedded", baseURL: "https://app.azurewebsites.net", problem: "refuses to run in Azure"},
		{name: "Table storage without a connection", env: azure, store: "tables", baseURL: "https://app.azurewebsites.net", problem: "no storage connection"},
		{name: "Azurite", env: with(home, "TASKS_STORE", "tables", "AzureWebJobsStorage", "UseDevelopmentStorage=true"), store: "tables"},
		{name: "a named connection and table", env: with(home, "TASKS_STORE", "tables", "TASKS_CONNECTION", "Data", "Data", "UseDevelopmentStorage=true", "TASKS_TABLE", "bad-name"), store: "tables", problem: "TASKS_TABLE"},
		{name: "WEBSITE_HOSTNAME outside Azure is Core Tools': links stay relative", env: with(home, "WEBSITE_HOSTNAME", "localhost:7071"), store: "embedded", file: "/home/u/.config/entrafunc/tasks.db"},
		{name: "a WEBSITE_HOSTNAME that is no host name", env: with(azure, "WEBSITE_HOSTNAME", "evil.example/x?y", "AzureWebJobsStorage__accountName", "acct"), store: "tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := readTasks(lookupFunc(tt.env.get).get, detectPlatform(tt.env.get), tt.devKey)
			err := errors.Join(c.problems...)
			switch {
			case tt.problem == "" && err != nil:
				t.Fatalf("problems: %v", err)
			case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
				t.Fatalf("problems %v, want one naming %q", err, tt.problem)
			}
			if c.Store != tt.store {
				t.Errorf("store %q, want %q", c.Store, tt.store)
			}
			if tt.file != "" && c.File != filepath.FromSlash(tt.file) {
				t.Errorf("file %q, want %q", c.File, tt.file)
			}
			if c.BaseURL != tt.baseURL {
				t.Errorf("base URL %q, want %q", c.BaseURL, tt.baseURL)
			}
			if strings.Contains(c.description(), "AccountKey") {
				t.Errorf("description shows a secret: %s", c.description())
			}
		})
	}
}

// TestTasksStoreIsOneProcess: a second server on the same embedded file
// fails at once, naming it; the first keeps it.
func TestTasksStoreIsOneProcess(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tasks.db")
	c := tasksConfig{Store: storeEmbedded, File: file}
	_, first, err := openTasks(c)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, second, err := openTasks(c); err == nil {
		second.Close()
		t.Fatal("a second open of the same file succeeded")
	} else if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("error %v does not name the file and say it is in use", err)
	}
}

func TestHostname(t *testing.T) {
	for s, want := range map[string]bool{
		"app.azurewebsites.net": true, "App-1.azurewebsites.net": true, "localhost:7071": true, "a": true,
		"": false, "-a.net": false, "a.net.": false, "a.net/x": false, "a.net?x": false, "user@a.net": false,
		"a.net:": false, "a.net:123456": false, "a.net:80x": false, "a b": false, "a.net:80:90": false,
		strings.Repeat("a", 253): true, strings.Repeat("a", 254): false, "ä.net": false,
	} {
		if got := hostname(s); got != want {
			t.Errorf("hostname(%q) = %v, want %v", s, got, want)
		}
	}
}
