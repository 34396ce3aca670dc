#include "core/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>

namespace rapport {
namespace {

// The name a thread has after calling NameThisThread(name), read from outside while it waits.
std::string NameAfter(std::string_view name) {
  std::atomic<int> step{0};
  std::thread t([&] {
    NameThisThread(name);
    step = 1;
    while (step != 2) std::this_thread::yield();
  });
  while (step != 1) std::this_thread::yield();
  char buf[32] = {};
  EXPECT_EQ(pthread_getname_np(t.native_handle(), buf, sizeof buf), 0);
  step = 2;
  t.join();
  return buf;
}

TEST(NameThisThread, NamesTheThreadAndCutsTheNameAtTheKernelsFifteenBytes) {
  EXPECT_EQ(NameAfter("seg-consumer"), "seg-consumer");
  EXPECT_EQ(NameAfter("a-name-longer-than-fifteen-bytes"), "a-name-longer-t");
}

}  // namespace
}  // namespace rapport
