// gRPC echo server for the e2e tests: answers with its --name.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"

namespace {

class EchoService final : public weft::test::Echo::Service {
 public:
  EchoService(std::string name, int fail_every) : name_(std::move(name)), fail_every_(fail_every) {}

  grpc::Status Unary(grpc::ServerContext* context, const weft::test::EchoRequest* request,
                     weft::test::EchoResponse* response) override {
    if (fail_every_ > 0 && ++calls_ % fail_every_ == 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "failing every " + std::to_string(fail_every_) + " calls");
    }
    auto deadline = context->deadline();
    response->set_deadline_ms(deadline == std::chrono::system_clock::time_point::max()
                                  ? -1
                                  : std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::system_clock::now())
                                        .count());
    if (request->delay_ms() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(request->delay_ms()));
    }
    if (request->fail_with_code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(request->fail_with_code()),
                          "asked to fail");
    }
    response->set_message(request->message());
    response->set_server(name_);
    std::vector<std::string> metadata;
    for (const auto& [key, value] : context->client_metadata()) {
      if (key.starts_with("x-")) {
        metadata.push_back(std::string(key.data(), key.size()) + "=" +
                           std::string(value.data(), value.size()));
      }
    }
    std::sort(metadata.begin(), metadata.end());
    for (auto& m : metadata) response->add_metadata(std::move(m));
    return grpc::Status::OK;
  }

  grpc::Status Bidi(grpc::ServerContext*,
                    grpc::ServerReaderWriter<weft::test::EchoResponse, weft::test::EchoRequest>*
                        stream) override {
    weft::test::EchoRequest request;
    while (stream->Read(&request)) {
      weft::test::EchoResponse response;
      response.set_message(request.message());
      response.set_server(name_);
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  std::string name_;
  int fail_every_;
  std::atomic<int> calls_{0};
};

}  // namespace

int main(int argc, char** argv) {
  std::string port = "50051";
  std::string host = "127.0.0.1";
  std::string name = "grpc-backend";
  int fail_every = 0;
  std::string health_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = argv[i + 1];
    if (std::strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    if (std::strcmp(argv[i], "--name") == 0) name = argv[i + 1];
    if (std::strcmp(argv[i], "--fail-every") == 0) fail_every = std::atoi(argv[i + 1]);
    // grpc.health.v1: NOT_SERVING while this file exists, SERVING otherwise.
    if (std::strcmp(argv[i], "--health-file") == 0) health_file = argv[i + 1];
  }
  grpc::EnableDefaultHealthCheckService(true);
  EchoService service(name, fail_every);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(host + ":" + port, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "echo_server: cannot listen on %s\n", port.c_str());
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  if (!health_file.empty()) {
    // The server outlives the thread: Wait() below never returns.
    std::thread([service = server->GetHealthCheckService(), health_file] {
      for (;;) {
        service->SetServingStatus(!std::filesystem::exists(health_file));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }).detach();
  }
  server->Wait();
  return 0;
}
