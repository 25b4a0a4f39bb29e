/*
 * noop.c - a shared library that does nothing: the tests of lockwatch run
 * preload it to check that an LD_PRELOAD the user set is kept.
 */
int lockwatch_test_noop(void);
int lockwatch_test_noop(void) { return 0; }
