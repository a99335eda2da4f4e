#include "serve/work_queue.hpp"

#include <stdexcept>

namespace cephtrace::serve {

WorkQueue::WorkQueue(int workers, int capacity) : capacity_(capacity) {
  if (workers < 1) throw std::invalid_argument("need at least one worker");
  if (capacity < 0) throw std::invalid_argument("queue capacity must not be negative");
  for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { work(w); });
}

WorkQueue::~WorkQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkQueue::try_submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    // A job waits only when every worker is busy; the queue bounds those waiting jobs.
    const int idle = workers() - running_;
    if (stopping_ || static_cast<int>(jobs_.size()) >= capacity_ + idle) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

int WorkQueue::queued() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(jobs_.size());
}

int WorkQueue::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void WorkQueue::work(int worker) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    try {
      job(worker);  // the server's jobs report their own errors; this is the last guard
    } catch (...) {
    }
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
  }
}

}  // namespace cephtrace::serve
