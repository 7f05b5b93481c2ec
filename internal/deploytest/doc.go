// Package deploytest keeps the deployment files honest: docker-compose.yml, the Dockerfile, and
// the Prometheus and Grafana provisioning they mount. Nothing here runs Docker; the tests parse
// the files and check the facts the stack depends on (services, Redis durability settings, the
// production profile, mounts that exist, scrape targets and data sources that point at real
// services), so a broken edit fails `go test` instead of a `docker compose up`.
package deploytest
