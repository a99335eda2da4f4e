// A tiny loopback HTTP/1.1 server imitating the hub's file endpoints, for the download
// tests: plain POSIX sockets on 127.0.0.1 (ephemeral port), one thread, one connection
// at a time, "Connection: close". Supports Range requests, error statuses, redirects,
// extra headers, and dropping a connection mid-body.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cephtrace::test {

class HubServer {
 public:
  struct Route {
    std::string body;
    int status = 200;          // anything but 200 answers with that status and a short body
    std::string redirect_to;   // when set: "302 Found" to this path
    std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
    bool ignore_range = false;  // answer 200 with the whole body even to a Range request
    int drops = 0;              // this many responses announce the full length, then close
    std::size_t drop_after = 0;  // ... after sending this many body bytes
  };
  struct Request {
    std::string path;
    std::string range;          // the Range header, "" when absent
    std::string authorization;  // the Authorization header, "" when absent
  };

  HubServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // ephemeral
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("test HubServer: cannot listen on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~HubServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes the blocked accept()
    thread_.join();
    ::close(listen_fd_);
  }

  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void set(const std::string& path, Route route) {
    std::lock_guard lock(mutex_);
    routes_[path] = std::move(route);
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;  // shut down (the loop ends) or a transient error
      timeval tv{5, 0};      // never let a confused client hang the test
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      handle(fd);
      ::close(fd);
    }
  }

  static std::string header_value(const std::string& head, std::string name) {
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    const auto at = lower.find("\r\n" + name + ":");
    if (at == std::string::npos) return "";
    const auto begin = head.find_first_not_of(' ', at + name.size() + 3);
    return head.substr(begin, head.find("\r\n", begin) - begin);
  }

  void send_all(int fd, const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
      const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += std::size_t(n);
    }
  }

  void handle(int fd) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      head.append(buf, std::size_t(n));
    }
    const auto sp1 = head.find(' ');
    const std::string path = head.substr(sp1 + 1, head.find(' ', sp1 + 1) - sp1 - 1);
    Request request{path, header_value(head, "Range"), header_value(head, "Authorization")};

    Route route;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      auto it = routes_.find(path);
      if (it == routes_.end()) {
        route.status = 404;
      } else {
        route = it->second;
        if (it->second.drops > 0) --it->second.drops;
      }
    }

    std::string extra;
    for (const auto& [name, value] : route.headers) extra += name + ": " + value + "\r\n";
    auto reply = [&](const std::string& status, const std::string& headers,
                     const std::string& body) {
      send_all(fd, "HTTP/1.1 " + status + "\r\nConnection: close\r\n" + extra + headers +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    };

    if (!route.redirect_to.empty())
      return reply("302 Found", "Location: " + route.redirect_to + "\r\n", "");
    if (route.status != 200)
      return reply(std::to_string(route.status) + " Error", "", "an error page\n");

    const std::string& body = route.body;
    std::size_t from = 0;
    std::string status = "200 OK", headers;
    if (!request.range.empty() && !route.ignore_range) {
      from = std::stoull(request.range.substr(request.range.find('=') + 1));
      if (from >= body.size())
        return reply("416 Range Not Satisfiable",
                     "Content-Range: bytes */" + std::to_string(body.size()) + "\r\n", "");
      status = "206 Partial Content";
      headers = "Content-Range: bytes " + std::to_string(from) + "-" +
                std::to_string(body.size() - 1) + "/" + std::to_string(body.size()) + "\r\n";
    }
    const std::string payload = body.substr(from);
    if (route.drops > 0) {  // announce everything, send a part, hang up
      send_all(fd, "HTTP/1.1 " + status + "\r\nConnection: close\r\n" + extra + headers +
                       "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" +
                       payload.substr(0, route.drop_after));
      return;
    }
    reply(status, headers, payload);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<std::string, Route> routes_;
  std::vector<Request> requests_;
};

}  // namespace cephtrace::test
