package connector_test

import (
	"fmt"

	"github.com/entrafunc/entrafunc/api"
	"github.com/entrafunc/entrafunc/connector"
)

func ExampleGenerate() {
	files, err := connector.Generate(connector.Config{
		Host:      "hello-fn.azurewebsites.net",
		ClientID:  "3f2a1b7c-5d4e-4f60-8a9b-0c1d2e3f4a5b",
		Resource:  "api://hello-fn",
		Audiences: []string{"api://hello-fn"},
	}, api.Routes())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range files {
		fmt.Println(f.Name)
	}
	fmt.Println(connector.RedirectURL("HelloFunction"))
	// Output:
	// apiDefinition.swagger.json
	// apiProperties.json
	// HelloFunction.postman_collection.json
	// settings.json
	// https://global.consent.azure-apim.net/redirect/hellofunction
}

func ExampleCheckResource() {
	err := connector.CheckResource("https://hello-fn.azurewebsites.net", []string{"api://hello-fn"})
	fmt.Println(err != nil)
	// Output: true
}
