// api_example.cpp - the same declarations on C++ locks; `--mistake` breaks the ranks once.
#include <cstdio>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include <lockwatch/lockwatch.h>

namespace {

std::mutex ledger;            // rank 10
std::shared_mutex directory;  // rank 20: readers look names up under the ledger

int lookup(int key) {
  LOCKWATCH_ASSERT_READ_HELD(&directory);  // shared or exclusive will do
  return key * 2;
}

}  // namespace

int main(int argc, char **argv) {
  bool mistake = argc > 1 && std::strcmp(argv[1], "--mistake") == 0;
  LOCKWATCH_NAME(&ledger, "ledger");
  LOCKWATCH_RANK(&ledger, 10);
  LOCKWATCH_NAME(&directory, "directory");
  LOCKWATCH_RANK(&directory, 20);
  int value;
  {
    std::lock_guard<std::mutex> l(ledger);
    std::shared_lock<std::shared_mutex> d(directory);
    value = lookup(21);
  }
  if (mistake) {  // the directory, then the ledger: against the ranks
    std::unique_lock<std::shared_mutex> d(directory);
    std::lock_guard<std::mutex> l(ledger);
  }
  std::printf("value: %d\n", value);
  return 0;
}
