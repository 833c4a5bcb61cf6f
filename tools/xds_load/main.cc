// xds_load: N simulated proxies, each an ADS stream to weft-control (state of
// the world or delta), ACKing everything. After they are all in sync it
// rewrites a config file and reports how long until every stream has
// received and ACKed the new route configuration.
//   xds_load --target HOST:PORT --proxies N [--delta] [--edit FILE --content FILE2]

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/service/discovery/v3/discovery.grpc.pb.h"
#include "mesh/xds_types.h"

namespace discovery = envoy::service::discovery::v3;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kCds = weft::mesh::typeUrl(weft::mesh::kCds);
const std::string kEds = weft::mesh::typeUrl(weft::mesh::kEds);
const std::string kLds = weft::mesh::typeUrl(weft::mesh::kLds);
const std::string kRds = weft::mesh::typeUrl(weft::mesh::kRds);

std::atomic<int> g_route_updates{0};  // streams that ACKed an RDS response, summed
std::atomic<int> g_failed{0};
std::mutex g_mutex;
std::condition_variable g_cv;

void notify() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_cv.notify_all();
}

template <class Request, class Response>
class Stream : public grpc::ClientBidiReactor<Request, Response> {
 public:
  Stream(int index, bool delta) : index_(index), delta_(delta) {}

  void start(discovery::AggregatedDiscoveryService::Stub* stub) {
    if constexpr (std::is_same_v<Request, discovery::DeltaDiscoveryRequest>) {
      stub->async()->DeltaAggregatedResources(&context_, this);
    } else {
      stub->async()->StreamAggregatedResources(&context_, this);
    }
    subscribe(kCds, {});
    subscribe(kLds, {});
    subscribe(kRds, {"outbound"});
    this->StartRead(&response_);
    this->StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::string type = response_.type_url();
    if (type == kCds) {
      std::vector<std::string> names;
      for (const auto& r : resources()) {
        envoy::config::cluster::v3::Cluster c;
        if (r.UnpackTo(&c) && c.type() == envoy::config::cluster::v3::Cluster::EDS) {
          names.push_back(c.name());
        }
      }
      if (!eds_subscribed_) {
        eds_subscribed_ = true;
        ack(type);
        subscribe(kEds, names);
      } else {
        ack(type);
      }
    } else {
      ack(type);
    }
    if (type == kRds) {
      g_route_updates.fetch_add(1);
      notify();
    }
    this->StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    writing_ = false;
    queue_.pop_front();
    if (ok && !queue_.empty()) {
      writing_ = true;
      this->StartWrite(&queue_.front());
    }
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok()) {
      g_failed.fetch_add(1);
      std::fprintf(stderr, "stream %d: %s\n", index_, status.error_message().c_str());
      notify();
    }
  }

 private:
  std::vector<google::protobuf::Any> resources() {
    std::vector<google::protobuf::Any> out;
    if constexpr (std::is_same_v<Response, discovery::DeltaDiscoveryResponse>) {
      for (const auto& r : response_.resources()) out.push_back(r.resource());
    } else {
      for (const auto& r : response_.resources()) out.push_back(r);
    }
    return out;
  }

  void subscribe(const std::string& type, const std::vector<std::string>& names) {
    Request request;
    if (!node_sent_) {
      request.mutable_node()->set_id("load-" + std::to_string(index_) + ".default");
      node_sent_ = true;
    }
    request.set_type_url(type);
    for (const auto& n : names) {
      if constexpr (std::is_same_v<Request, discovery::DeltaDiscoveryRequest>) {
        request.add_resource_names_subscribe(n);
      } else {
        request.add_resource_names(n);
      }
    }
    if constexpr (std::is_same_v<Request, discovery::DiscoveryRequest>) names_[type] = names;
    write(std::move(request));
  }

  void ack(const std::string& type) {
    Request request;
    request.set_type_url(type);
    request.set_response_nonce(response_.nonce());
    if constexpr (std::is_same_v<Request, discovery::DiscoveryRequest>) {
      request.set_version_info(response_.version_info());
      for (const auto& n : names_[type]) request.add_resource_names(n);
    }
    write(std::move(request));
  }

  void write(Request request) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(request));
    if (!writing_) {
      writing_ = true;
      this->StartWrite(&queue_.front());
    }
  }

  int index_;
  bool delta_;
  grpc::ClientContext context_;
  Response response_;
  std::mutex mutex_;
  std::deque<Request> queue_;  // front() is in flight: references must stay valid
  bool writing_ = false;
  bool node_sent_ = false;
  bool eds_subscribed_ = false;
  std::map<std::string, std::vector<std::string>> names_;
};

bool waitFor(int target_updates, int seconds) {
  std::unique_lock<std::mutex> lock(g_mutex);
  return g_cv.wait_for(lock, std::chrono::seconds(seconds), [&] {
    return g_route_updates.load() >= target_updates || g_failed.load() > 0;
  }) && g_failed.load() == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:15010";
  int proxies = 100;
  bool delta = false;
  std::string edit, content;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--target" && i + 1 < argc)
      target = argv[++i];
    else if (a == "--proxies" && i + 1 < argc)
      proxies = std::atoi(argv[++i]);
    else if (a == "--delta")
      delta = true;
    else if (a == "--edit" && i + 1 < argc)
      edit = argv[++i];
    else if (a == "--content" && i + 1 < argc)
      content = argv[++i];
  }
  // A handful of channels (HTTP/2 connections), streams spread over them, as
  // many proxies on few nodes would be; each stream is its own ADS session.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<discovery::AggregatedDiscoveryService::Stub>> stubs;
  for (int c = 0; c < 8; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("weft.channel", c);  // distinct channels, not one shared subchannel
    channels.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(discovery::AggregatedDiscoveryService::NewStub(channels.back()));
  }
  std::vector<std::unique_ptr<
      grpc::ClientBidiReactor<discovery::DiscoveryRequest, discovery::DiscoveryResponse>>>
      sotw;
  std::vector<std::unique_ptr<
      grpc::ClientBidiReactor<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>>>
      deltas;
  auto start = Clock::now();
  for (int i = 0; i < proxies; ++i) {
    auto* stub = stubs[i % stubs.size()].get();
    if (delta) {
      auto s = std::make_unique<
          Stream<discovery::DeltaDiscoveryRequest, discovery::DeltaDiscoveryResponse>>(i, true);
      s->start(stub);
      deltas.push_back(std::move(s));
    } else {
      auto s = std::make_unique<Stream<discovery::DiscoveryRequest, discovery::DiscoveryResponse>>(
          i, false);
      s->start(stub);
      sotw.push_back(std::move(s));
    }
  }
  if (!waitFor(proxies, 60)) {
    std::printf("xds_load: initial sync failed (%d of %d streams got routes, %d failed)\n",
                g_route_updates.load(), proxies, g_failed.load());
    return 1;
  }
  double initial = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("xds_load: %d %s streams in sync in %.3f s\n", proxies, delta ? "delta" : "sotw",
              initial);
  if (edit.empty()) return 0;
  std::ifstream in(content);
  std::stringstream text;
  text << in.rdbuf();
  auto edited = Clock::now();
  {
    std::ofstream out(edit + ".tmp");
    out << text.str();
  }
  std::rename((edit + ".tmp").c_str(), edit.c_str());
  if (!waitFor(2 * proxies, 60)) {
    std::printf("xds_load: update not received by all streams (%d of %d)\n",
                g_route_updates.load() - proxies, proxies);
    return 1;
  }
  double seconds = std::chrono::duration<double>(Clock::now() - edited).count();
  std::printf("xds_load: route edit -> all %d streams received and ACKed it in %.3f s\n", proxies,
              seconds);
  std::fflush(stdout);
  std::_Exit(0);  // streams stay open until the process ends
}
