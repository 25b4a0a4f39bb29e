/* api_example.c - names, ranks and an assertion; `--mistake` breaks the ranks once. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lockwatch/lockwatch.h>

#define NACCOUNTS 4

static pthread_mutex_t ledger = PTHREAD_MUTEX_INITIALIZER;  /* rank 10: taken first */
static pthread_mutex_t journal = PTHREAD_MUTEX_INITIALIZER; /* rank 20: taken inside */
static pthread_mutex_t accounts[NACCOUNTS];                 /* rank 30, may nest */
static long balance[NACCOUNTS];

/* Moves money between two accounts; the caller holds the ledger. */
static void transfer(int from, int to, long amount) {
  LOCKWATCH_ASSERT_HELD(&ledger);
  int lo = from < to ? from : to, hi = from < to ? to : from;
  pthread_mutex_lock(&accounts[lo]);
  pthread_mutex_lock(&accounts[hi]);
  balance[from] -= amount;
  balance[to] += amount;
  pthread_mutex_unlock(&accounts[hi]);
  pthread_mutex_unlock(&accounts[lo]);
}

int main(int argc, char **argv) {
  int mistake = argc > 1 && strcmp(argv[1], "--mistake") == 0;
  LOCKWATCH_NAME(&ledger, "ledger");
  LOCKWATCH_RANK(&ledger, 10);
  LOCKWATCH_NAME(&journal, "journal");
  LOCKWATCH_RANK(&journal, 20);
  for (int i = 0; i < NACCOUNTS; i++) {
    pthread_mutex_init(&accounts[i], NULL);
    lockwatch_namef(&accounts[i], "accounts[%d]", i);
    LOCKWATCH_RANK_NESTABLE(&accounts[i], 30);
  }
  pthread_mutex_lock(&ledger);
  pthread_mutex_lock(&journal);
  transfer(0, 3, 25);
  transfer(2, 1, 10);
  pthread_mutex_unlock(&journal);
  pthread_mutex_unlock(&ledger);
  if (mistake) { /* the journal, then the ledger: against the ranks */
    pthread_mutex_lock(&journal);
    pthread_mutex_lock(&ledger);
    pthread_mutex_unlock(&ledger);
    pthread_mutex_unlock(&journal);
  }
  printf("balances: %ld %ld %ld %ld\n", balance[0], balance[1], balance[2], balance[3]);
  return 0;
}
