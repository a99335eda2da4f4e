// A fixed set of worker threads fed by a bounded queue: a request that finds the queue full
// is refused at once (the server answers 503) instead of piling up without limit.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cephtrace::serve {

class WorkQueue {
 public:
  // `job(worker)` runs on worker thread `worker` (0 .. workers-1), so that each worker can
  // own state such as its Predictor.
  using Job = std::function<void(int worker)>;

  WorkQueue(int workers, int capacity);
  // Lets running jobs finish and drops the queued ones (their owners time out or are gone).
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `job`; false (and `job` dropped) when `capacity` jobs are already waiting.
  bool try_submit(Job job);

  int workers() const { return static_cast<int>(threads_.size()); }
  int capacity() const { return capacity_; }
  int queued() const;
  int running() const;

 private:
  void work(int worker);

  const int capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cephtrace::serve
