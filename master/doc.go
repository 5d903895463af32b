// Package master is the Brine master: key acceptance, the request server
// (auth, returns, file server, pillar, CLI publish), the publisher, the
// event bus and the job cache. It never imports package minion.
package master
