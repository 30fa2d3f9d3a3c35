module github.com/creditwatch/creditwatch

go 1.26.8

require gopkg.in/yaml.v3 v3.0.1

require (
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.73.1 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
