// Package minion is the Brine minion: authentication, the subscription to
// the master's publications, self-targeting, job dispatch and returns. It
// never imports package master, so that the minion binary stays small.
package minion
