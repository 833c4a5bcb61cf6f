// gRPC echo client for the e2e tests. Prints one line per outcome:
//   unary: "N ok SERVER" or "N error CODE MESSAGE" (with --show-metadata 1,
//   "ok SERVER [x-a=1 x-b=2]" and, with --response-header NAME, " NAME=VALUE");
//   bidi: "bidi ok N SERVER" or "bidi error ...".

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "echo.grpc.pb.h"

int main(int argc, char** argv) {
  std::string target = "127.0.0.1:50051";
  std::string authority;  // :authority, when not the target (a Service name through a proxy)
  std::string mode = "unary";
  int count = 1;
  int fail_with = 0;
  bool split = false;  // sends x-split metadata (the e2e route splits on it)
  int deadline_ms = 5000;
  int delay_ms = 0;
  bool show_deadline = false;
  bool show_metadata = false;                                 // the x- metadata the server saw
  std::string response_header;                                // a response metadata entry to show
  std::vector<std::pair<std::string, std::string>> metadata;  // --header NAME=VALUE
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--target") == 0) target = argv[i + 1];
    if (std::strcmp(argv[i], "--authority") == 0) authority = argv[i + 1];
    if (std::strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
    if (std::strcmp(argv[i], "--count") == 0) count = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--fail-with") == 0) fail_with = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--split") == 0) split = std::strcmp(argv[i + 1], "1") == 0;
    if (std::strcmp(argv[i], "--deadline-ms") == 0) deadline_ms = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--header") == 0) {
      std::string kv = argv[i + 1];
      size_t eq = kv.find('=');
      if (eq != std::string::npos) metadata.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (std::strcmp(argv[i], "--delay-ms") == 0) delay_ms = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--show-metadata") == 0)
      show_metadata = std::strcmp(argv[i + 1], "1") == 0;
    if (std::strcmp(argv[i], "--response-header") == 0) response_header = argv[i + 1];
    if (std::strcmp(argv[i], "--show-deadline") == 0)
      show_deadline = std::strcmp(argv[i + 1], "1") == 0;
  }
  grpc::ChannelArguments channel_args;
  if (!authority.empty()) channel_args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, authority);
  auto channel =
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), channel_args);
  auto stub = weft::test::Echo::NewStub(channel);

  if (mode == "bidi") {
    grpc::ClientContext context;
    auto stream = stub->Bidi(&context);
    int received = 0;
    std::string server;
    for (int i = 0; i < count; ++i) {
      weft::test::EchoRequest request;
      request.set_message("m" + std::to_string(i));
      if (!stream->Write(request)) break;
      weft::test::EchoResponse response;
      if (!stream->Read(&response)) break;
      if (response.message() == request.message()) ++received;
      server = response.server();
    }
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    if (!status.ok()) {
      std::printf("bidi error %d %s\n", status.error_code(), status.error_message().c_str());
      return 1;
    }
    std::printf("bidi ok %d %s\n", received, server.c_str());
    return received == count ? 0 : 1;
  }

  std::map<std::string, int> outcomes;
  for (int i = 0; i < count; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
    if (split) context.AddMetadata("x-split", "1");
    for (const auto& [k, v] : metadata) context.AddMetadata(k, v);
    weft::test::EchoRequest request;
    request.set_message("hello");
    request.set_fail_with_code(fail_with);
    request.set_delay_ms(delay_ms);
    weft::test::EchoResponse response;
    grpc::Status status = stub->Unary(&context, request, &response);
    if (status.ok() && show_deadline) {
      std::printf("deadline seen by the server: %lld ms\n",
                  static_cast<long long>(response.deadline_ms()));
    }
    if (status.ok()) {
      std::string outcome = "ok " + response.server();
      if (show_metadata) {
        std::string seen;
        for (const auto& m : response.metadata()) seen += (seen.empty() ? "" : " ") + m;
        outcome += " [" + seen + "]";
      }
      if (!response_header.empty()) {
        auto [begin, end] = context.GetServerInitialMetadata().equal_range(response_header);
        std::string value =
            begin == end ? "-" : std::string(begin->second.data(), begin->second.size());
        outcome += " " + response_header + "=" + value;
      }
      outcomes[outcome]++;
    } else {
      outcomes["error " + std::to_string(status.error_code()) + " " + status.error_message()]++;
    }
  }
  for (const auto& [outcome, n] : outcomes) std::printf("%d %s\n", n, outcome.c_str());
  return 0;
}
