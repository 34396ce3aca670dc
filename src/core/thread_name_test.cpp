#include "core/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <string>
#include <thread>

namespace rapport {
namespace {

std::string NameOf(std::thread& t) {
  char buf[32] = {};
  EXPECT_EQ(pthread_getname_np(t.native_handle(), buf, sizeof buf), 0);
  return buf;
}

TEST(NameThisThread, NamesTheThreadAndCutsTheNameAtTheKernelsFifteenBytes) {
  std::atomic<int> step{0};
  std::thread a([&] {
    NameThisThread("seg-consumer");
    step = 1;
    while (step != 2) std::this_thread::yield();
  });
  while (step != 1) std::this_thread::yield();
  EXPECT_EQ(NameOf(a), "seg-consumer");
  step = 2;
  a.join();

  step = 0;
  std::thread b([&] {
    NameThisThread("a-name-longer-than-fifteen-bytes");
    step = 1;
    while (step != 2) std::this_thread::yield();
  });
  while (step != 1) std::this_thread::yield();
  EXPECT_EQ(NameOf(b), "a-name-longer-t");
  step = 2;
  b.join();
}

}  // namespace
}  // namespace rapport
