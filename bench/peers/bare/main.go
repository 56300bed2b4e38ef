// Command bare is the ceiling of `make bench`: a bare net/http server
// answering Hello's text, with no routing, logging or authentication, and
// Go's default settings. Every other server is measured against it.
package main

import (
	"io"
	"log"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/api/Hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello, "+r.URL.Query().Get("name")+". This HTTP triggered function executed successfully.")
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil))
}
