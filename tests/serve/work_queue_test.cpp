// The bounded queue behind `cephtrace serve`: what it accepts, what it refuses, and that a
// failing job does not take a worker down.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "serve/work_queue.hpp"

namespace cephtrace::serve {
namespace {

// A gate jobs wait at until the test opens it.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(m);
      open = true;
    }
    cv.notify_all();
  }
};

void wait_until(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST(WorkQueue, RefusesOnceWorkersAndQueueAreFull) {
  Gate gate;
  std::atomic<int> finished{0};
  WorkQueue q(2, 1);
  auto job = [&](int) { gate.wait(); ++finished; };
  ASSERT_TRUE(q.try_submit(job));
  ASSERT_TRUE(q.try_submit(job));
  wait_until([&] { return q.running() == 2; });
  EXPECT_EQ(q.running(), 2);
  EXPECT_TRUE(q.try_submit(job));   // waits in the queue
  EXPECT_EQ(q.queued(), 1);
  EXPECT_FALSE(q.try_submit(job));  // queue full
  gate.release();
  wait_until([&] { return finished == 3; });
  EXPECT_EQ(finished, 3);
  EXPECT_TRUE(q.try_submit([&](int) { ++finished; }));  // room again
  wait_until([&] { return finished == 4; });
  EXPECT_EQ(finished, 4);
}

TEST(WorkQueue, EachWorkerHasItsOwnIndex) {
  Gate gate;
  std::mutex m;
  std::set<int> seen;
  WorkQueue q(3, 0);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(q.try_submit([&](int w) {
      {
        std::lock_guard lock(m);
        seen.insert(w);
      }
      gate.wait();
    }));
  wait_until([&] { std::lock_guard lock(m); return seen.size() == 3; });
  gate.release();
  EXPECT_EQ(seen, (std::set<int>{0, 1, 2}));
}

TEST(WorkQueue, AThrowingJobLeavesTheWorkerRunning) {
  std::atomic<int> finished{0};
  WorkQueue q(1, 4);
  ASSERT_TRUE(q.try_submit([](int) { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(q.try_submit([&](int) { ++finished; }));
  wait_until([&] { return finished == 1; });
  EXPECT_EQ(finished, 1);
}

TEST(WorkQueue, RejectsNonsenseSizes) {
  EXPECT_THROW(WorkQueue(0, 1), std::invalid_argument);
  EXPECT_THROW(WorkQueue(1, -1), std::invalid_argument);
}

}  // namespace
}  // namespace cephtrace::serve
