module github.com/entrafunc/entrafunc/bench

go 1.25.0

// The benchmark imports the main module's test issuer
// (internal/entratest): its path is under the main module's root, so the
// internal rule allows it, and the replace makes it the working tree's.
replace github.com/entrafunc/entrafunc => ../

require (
	github.com/MicahParks/keyfunc/v3 v3.9.1
	github.com/entrafunc/entrafunc v0.0.0-00010101000000-000000000000
	github.com/go-chi/chi/v5 v5.5.0
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/tsenart/vegeta/v12 v12.13.0
)

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/influxdata/tdigest v0.0.1 // indirect
	github.com/josharian/intern v1.0.0 // indirect
	github.com/mailru/easyjson v0.7.7 // indirect
	github.com/rs/dnscache v0.0.0-20230804202142-fc85eb664529 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	golang.org/x/time v0.15.0 // indirect
	gonum.org/v1/gonum v0.16.0 // indirect
)
