#include "proxy/dns/cares_resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace weft::dns {

namespace {

class CaresResolver : public Resolver {
 public:
  explicit CaresResolver(event::Dispatcher& dispatcher)
      : dispatcher_(dispatcher),
        timer_(dispatcher, [this] { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }) {}

  bool init(std::string* error) {
    static std::once_flag library;
    static int library_status = ARES_SUCCESS;
    std::call_once(library, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS) {
      *error = std::string("c-ares: ") + ares_strerror(library_status);
      return false;
    }
    ares_options options{};
    options.sock_state_cb = &CaresResolver::onSocketState;
    options.sock_state_cb_data = this;
    int status = ares_init_options(&channel_, &options, ARES_OPT_SOCK_STATE_CB);
    if (status != ARES_SUCCESS) {
      *error = std::string("c-ares: ") + ares_strerror(status);
      return false;
    }
    initialized_ = true;
    return true;
  }

  ~CaresResolver() override {
    // Pending queries end with ARES_EDESTRUCTION: their callbacks are dropped.
    *alive_ = false;
    if (initialized_) ares_destroy(channel_);
    for (auto& [fd, poll] : polls_) closePoll(poll);
  }

  void resolve(const std::string& hostname, LookupFamily family, Callback callback) override {
    ares_addrinfo_hints hints{};
    hints.ai_family = family == LookupFamily::kV4Only   ? AF_INET
                      : family == LookupFamily::kV6Only ? AF_INET6
                                                        : AF_UNSPEC;
    auto* query = new Query{this, family, std::move(callback), alive_};
    ares_getaddrinfo(channel_, hostname.c_str(), nullptr, &hints, &CaresResolver::onAnswer, query);
    armTimer();
  }

 private:
  struct Query {
    CaresResolver* resolver;
    LookupFamily family;
    Callback callback;
    std::shared_ptr<bool> alive;
  };

  static void onAnswer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
    std::unique_ptr<Query> query(static_cast<Query*>(arg));
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
      if (result != nullptr) ares_freeaddrinfo(result);
      return;
    }
    bool ok = status == ARES_SUCCESS && result != nullptr;
    std::string error = ok ? "" : ares_strerror(status);
    Answer answer;
    if (ok) {
      std::vector<std::string> v4, v6;
      for (ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
        char text[INET6_ADDRSTRLEN] = {0};
        if (node->ai_family == AF_INET) {
          inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr, text,
                    sizeof(text));
        } else if (node->ai_family == AF_INET6) {
          inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr, text,
                    sizeof(text));
        } else {
          continue;
        }
        auto& list = node->ai_family == AF_INET ? v4 : v6;
        if (std::find(list.begin(), list.end(), text) == list.end()) list.push_back(text);
        uint32_t ttl = node->ai_ttl > 0 ? static_cast<uint32_t>(node->ai_ttl) : 0;
        if (ttl > 0 && (answer.ttl_s == 0 || ttl < answer.ttl_s)) answer.ttl_s = ttl;
      }
      answer.addresses = applyFamily(query->family, std::move(v4), std::move(v6));
      if (answer.addresses.empty()) {
        ok = false;
        error = "no address of the family asked for";
      }
    }
    if (result != nullptr) ares_freeaddrinfo(result);
    // Never from inside resolve() (c-ares answers /etc/hosts names at once).
    auto alive = query->alive;
    query->resolver->dispatcher_.post(
        [alive, callback = std::move(query->callback), ok, answer = std::move(answer), error] {
          if (*alive) callback(ok, answer, error);
        });
  }

  static void onSocketState(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<CaresResolver*>(data);
    auto it = self->polls_.find(fd);
    if (!readable && !writable) {
      if (it != self->polls_.end()) {
        closePoll(it->second);
        self->polls_.erase(it);
      }
      return;
    }
    uv_poll_t* poll;
    if (it == self->polls_.end()) {
      poll = new uv_poll_t;
      uv_poll_init_socket(self->dispatcher_.loop(), poll, fd);
      poll->data = self;
      self->polls_[fd] = poll;
    } else {
      poll = it->second;
    }
    uv_poll_start(poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                  &CaresResolver::onReady);
  }

  static void onReady(uv_poll_t* poll, int status, int events) {
    auto* self = static_cast<CaresResolver*>(poll->data);
    ares_socket_t fd = -1;
    uv_fileno(reinterpret_cast<uv_handle_t*>(poll), &fd);
    // An error on the socket: let c-ares read it and notice.
    bool readable = status < 0 || (events & UV_READABLE);
    bool writable = status < 0 || (events & UV_WRITABLE);
    self->process(readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  }

  static void closePoll(uv_poll_t* poll) {
    uv_poll_stop(poll);
    uv_close(reinterpret_cast<uv_handle_t*>(poll),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  }

  void process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ares_process_fd(channel_, read_fd, write_fd);
    armTimer();
  }

  void armTimer() {
    timeval tv{};
    if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
      timer_.disable();
      return;
    }
    timer_.enableMs(static_cast<uint64_t>(tv.tv_sec) * 1000 +
                    static_cast<uint64_t>(tv.tv_usec) / 1000 + 1);
  }

  event::Dispatcher& dispatcher_;
  event::Timer timer_;
  ares_channel channel_ = nullptr;
  bool initialized_ = false;
  std::map<ares_socket_t, uv_poll_t*> polls_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<Resolver> makeCaresResolver(event::Dispatcher& dispatcher, std::string* error) {
  auto resolver = std::make_unique<CaresResolver>(dispatcher);
  if (!resolver->init(error)) return nullptr;
  return resolver;
}

}  // namespace weft::dns
