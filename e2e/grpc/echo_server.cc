// gRPC echo server for the e2e tests: answers with its --name.

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "echo.grpc.pb.h"

namespace {

class EchoService final : public weft::test::Echo::Service {
 public:
  explicit EchoService(std::string name) : name_(std::move(name)) {}

  grpc::Status Unary(grpc::ServerContext*, const weft::test::EchoRequest* request,
                     weft::test::EchoResponse* response) override {
    if (request->fail_with_code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(request->fail_with_code()),
                          "asked to fail");
    }
    response->set_message(request->message());
    response->set_server(name_);
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
};

}  // namespace

int main(int argc, char** argv) {
  std::string port = "50051";
  std::string name = "grpc-backend";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = argv[i + 1];
    if (std::strcmp(argv[i], "--name") == 0) name = argv[i + 1];
  }
  EchoService service(name);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + port, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "echo_server: cannot listen on %s\n", port.c_str());
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  server->Wait();
  return 0;
}
