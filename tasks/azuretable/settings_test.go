package azuretable

import (
	"strings"
	"testing"
)

const secret = "c2VjcmV0LWtleS1ub3QtdG8tYmUtc2hvd24tYW55d2hlcmU=" // base64, as an account key is

func TestReadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Settings // compared without ConnectionString and ClientSecret
		errs []string // substrings of the error, one per problem; none: valid
	}{
		{
			name: "nothing set",
			env:  map[string]string{},
			errs: []string{"no storage connection for the tasks: set AzureWebJobsStorage"},
		},
		{
			name: "Azurite",
			env:  map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true"},
			want: Settings{Connection: "AzureWebJobsStorage", Table: "tasks", Auth: AuthConnectionString},
		},
		{
			name: "account key, keys in any case",
			env:  map[string]string{"AzureWebJobsStorage": "defaultendpointsprotocol=https;ACCOUNTNAME=acct1;AccountKey=" + secret + ";EndpointSuffix=core.windows.net;"},
			want: Settings{Connection: "AzureWebJobsStorage", Table: "tasks", Auth: AuthConnectionString},
		},
		{
			name: "SAS with a table endpoint",
			env:  map[string]string{"TASKS_CONNECTION": "Data", "Data": "TableEndpoint=https://acct1.table.core.windows.net;SharedAccessSignature=sv=2022&sig=" + secret, "TASKS_TABLE": "Tasks2026"},
			want: Settings{Connection: "Data", Table: "Tasks2026", Auth: AuthConnectionString},
		},
		{
			name: "key and SAS",
			env:  map[string]string{"AzureWebJobsStorage": "AccountName=acct1;AccountKey=" + secret + ";SharedAccessSignature=sig=" + secret},
			errs: []string{"AzureWebJobsStorage: has both AccountKey and SharedAccessSignature"},
		},
		{
			name: "no credential",
			env:  map[string]string{"AzureWebJobsStorage": "AccountName=acct1"},
			errs: []string{"has neither AccountKey nor SharedAccessSignature"},
		},
		{
			name: "not a connection string",
			env:  map[string]string{"AzureWebJobsStorage": "https://acct1.table.core.windows.net"},
			errs: []string{"is not a connection string"},
		},
		{
			name: "a key over http to another host",
			env:  map[string]string{"AzureWebJobsStorage": "AccountName=acct1;AccountKey=" + secret + ";TableEndpoint=http://storage.example.com/acct1"},
			errs: []string{"an account key is sent over https only"},
		},
		{
			name: "Azurite through a proxy",
			env:  map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite"},
			errs: []string{"DevelopmentStorageProxyUri is not supported"},
		},
		{
			name: "table service URI, outside Azure",
			env:  map[string]string{"TASKS_CONNECTION": "Data", "Data__tableServiceUri": "https://acct1.table.core.windows.net/"},
			want: Settings{Connection: "Data", Table: "tasks", Auth: AuthDeveloper, ServiceURL: "https://acct1.table.core.windows.net/"},
		},
		{
			name: "table service URI, in Azure",
			env:  map[string]string{"AzureWebJobsStorage__tableServiceUri": "https://acct1.table.core.windows.net", "WEBSITE_INSTANCE_ID": "abc"},
			want: Settings{Connection: "AzureWebJobsStorage", Table: "tasks", Auth: AuthManagedIdentity, ServiceURL: "https://acct1.table.core.windows.net"},
		},
		{
			name: "account name, user-assigned identity",
			env: map[string]string{"AzureWebJobsStorage__accountName": "acct1", "AzureWebJobsStorage__credential": "managedidentity",
				"AzureWebJobsStorage__clientId": "9188040D-6C67-4C5B-B112-36A304B66DAD"},
			want: Settings{Connection: "AzureWebJobsStorage", Table: "tasks", Auth: AuthManagedIdentity,
				ServiceURL: "https://acct1.table.core.windows.net", ClientID: "9188040d-6c67-4c5b-b112-36a304b66dad"},
		},
		{
			name: "the connection string wins over identity settings",
			env:  map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true", "AzureWebJobsStorage__accountName": "acct1"},
			want: Settings{Connection: "AzureWebJobsStorage", Table: "tasks", Auth: AuthConnectionString},
		},
		{
			name: "account name for another connection",
			env:  map[string]string{"TASKS_CONNECTION": "Data", "Data__accountName": "acct1"},
			errs: []string{"Data__accountName is read for AzureWebJobsStorage only"},
		},
		{
			name: "bad URI, bad account, bad credential, two identities",
			env: map[string]string{"Data__tableServiceUri": "http://acct1.table.core.windows.net/?sig=" + secret, "TASKS_CONNECTION": "Data",
				"Data__credential": "azurecli", "Data__clientId": "me", "Data__managedIdentityResourceId": "/subscriptions/x"},
			errs: []string{"Data__tableServiceUri", "Data__credential", "Data__clientId is not a client id", "both name an identity"},
		},
		{
			name: "bad account name",
			env:  map[string]string{"AzureWebJobsStorage__accountName": "Acct_1"},
			errs: []string{"is not a storage account name"},
		},
		{
			name: "client secret outside Azure",
			env: map[string]string{"AzureWebJobsStorage__tableServiceUri": "https://acct1.table.core.windows.net",
				"AzureWebJobsStorage__tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "AzureWebJobsStorage__clientId": "9188040d-6c67-4c5b-b112-36a304b66dad",
				"AzureWebJobsStorage__clientSecret": secret},
			want: Settings{Connection: "AzureWebJobsStorage", Table: "tasks", Auth: AuthClientSecret, ServiceURL: "https://acct1.table.core.windows.net",
				ClientID: "9188040d-6c67-4c5b-b112-36a304b66dad", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47"},
		},
		{
			name: "client secret in Azure",
			env: map[string]string{"AzureWebJobsStorage__tableServiceUri": "https://acct1.table.core.windows.net", "WEBSITE_INSTANCE_ID": "abc",
				"AzureWebJobsStorage__clientSecret": secret},
			errs: []string{"a client secret is not for an app hosted in Azure"},
		},
		{
			name: "client secret without its app",
			env:  map[string]string{"AzureWebJobsStorage__tableServiceUri": "https://acct1.table.core.windows.net", "AzureWebJobsStorage__clientSecret": secret},
			errs: []string{"__tenantId must be", "__clientId must be"},
		},
		{
			name: "bad names, and no connection",
			env:  map[string]string{"TASKS_TABLE": "tables"},
			errs: []string{"TASKS_TABLE=\"tables\" is not a table name", "no storage connection"},
		},
		{
			name: "short table name",
			env:  map[string]string{"TASKS_TABLE": "ab", "AzureWebJobsStorage": "UseDevelopmentStorage=true"},
			errs: []string{"TASKS_TABLE=\"ab\""},
		},
		{
			name: "bad connection name",
			env:  map[string]string{"TASKS_CONNECTION": "my storage!"},
			errs: []string{"TASKS_CONNECTION=\"my storage!\" is not a setting name"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadSettings(func(k string) string { return tc.env[k] })
			if err != nil && strings.Contains(err.Error(), secret) || strings.Contains(got.String(), secret) {
				t.Errorf("a secret is shown: %v / %s", err, got)
			}
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("ReadSettings: %v", err)
				}
				got.ConnectionString, got.ClientSecret = "", ""
				if got != tc.want {
					t.Errorf("ReadSettings = %+v\nwant %+v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadSettings = %+v, want errors %q", got, tc.errs)
			}
			joined, _ := err.(interface{ Unwrap() []error })
			if joined == nil || len(joined.Unwrap()) != len(tc.errs) {
				t.Errorf("want %d problems, got: %v", len(tc.errs), err)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the errors do not say %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestSettingsString(t *testing.T) {
	s, err := ReadSettings(func(k string) string {
		return map[string]string{"AzureWebJobsStorage": "AccountName=acct1;AccountKey=" + secret}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.String(), "table tasks at https://acct1.table.core.windows.net (connection string from AzureWebJobsStorage)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestOpenMakesNoCall(t *testing.T) {
	// Every kind opens without the network: the credential and the
	// table are first reached by the first task call.
	for _, s := range []Settings{
		{Auth: AuthManagedIdentity, ServiceURL: "https://acct1.table.core.windows.net", Table: "tasks", ClientID: "9188040d-6c67-4c5b-b112-36a304b66dad"},
		{Auth: AuthManagedIdentity, ServiceURL: "https://acct1.table.core.windows.net", Table: "tasks"},
		{Auth: AuthDeveloper, ServiceURL: "https://acct1.table.core.windows.net", Table: "tasks"},
		{Auth: AuthClientSecret, ServiceURL: "https://acct1.table.core.windows.net", Table: "tasks", TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientID: "9188040d-6c67-4c5b-b112-36a304b66dad", ClientSecret: secret},
		{Auth: AuthConnectionString, ConnectionString: "UseDevelopmentStorage=true", Table: "tasks"},
	} {
		if _, err := Open(s, Options{}); err != nil {
			t.Errorf("Open(%s): %v", s.Auth, err)
		}
	}
	if _, err := Open(Settings{Auth: "password"}, Options{}); err == nil {
		t.Error("Open of an unknown kind succeeded")
	}
	if _, err := NewWithCredential("http://acct1.table.core.windows.net", nil, "tasks", Options{}); err == nil {
		t.Error("NewWithCredential over http succeeded")
	}
}
