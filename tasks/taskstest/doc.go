// Package taskstest holds the contract every [tasks.Store] must pass
// ([TestStore], in the shape of testing/slogtest and go-cloud's
// drivertest) and a store in memory ([NewMemory]) for the tests of the
// service and of the api.
package taskstest
