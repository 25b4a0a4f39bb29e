/* scn_noop_lib.c - a shared library that does nothing: the checker's self-tests
 * preload it in place of lockwatch, to see runs that write no JSON document. */
int scn_noop_lib_marker;
