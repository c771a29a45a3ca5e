module github.com/stampede-load/stampede

go 1.26.0

require (
	github.com/jackc/pgx/v5 v5.12.0
	github.com/spf13/pflag v1.1.0
	golang.org/x/crypto v0.59.0
)

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	golang.org/x/text v0.44.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
