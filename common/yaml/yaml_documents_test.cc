#include "common/yaml/yaml_documents.h"

#include <gtest/gtest.h>

namespace weft::common {
namespace {

TEST(YamlDocumentsTest, ReadsEveryDocument) {
  std::vector<YAML::Node> docs;
  std::string error;
  ASSERT_TRUE(loadYamlDocuments("a: 1\n---\nb: 2\n", &docs, &error)) << error;
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["b"].as<int>(), 2);
}

// Found by control_config_fuzz: yaml-cpp 0.7's LoadAll never returned.
TEST(YamlDocumentsTest, ACommaWhereANodeStartsIsAnErrorNotALoop) {
  for (const char* text : {",", "---\n,", "\"a\"\n,", ",%}"}) {
    std::vector<YAML::Node> docs;
    std::string error;
    EXPECT_FALSE(loadYamlDocuments(text, &docs, &error)) << text;
    EXPECT_NE(error.find("no node can start here"), std::string::npos) << error;
  }
}

// Found by bootstrap_fuzz: nlohmann::json threw from dump() and weft-proxy terminated.
TEST(YamlDocumentsTest, BytesThatAreNotUtf8AreAnErrorWithTheirPlace) {
  std::vector<YAML::Node> docs;
  std::string error;
  EXPECT_FALSE(loadYamlDocuments("a: 1\nb: \"x\x9d\"\n", &docs, &error));
  EXPECT_EQ(error, "not UTF-8 at line 2, column 6 (byte 10)");
  EXPECT_TRUE(loadYamlDocuments("name: caf\xc3\xa9\n", &docs, &error)) << error;
}

// Found by bootstrap_fuzz: NULs made yaml-cpp read the text as UTF-32.
TEST(YamlDocumentsTest, ControlCharactersAreAnError) {
  std::vector<YAML::Node> docs;
  std::string error;
  EXPECT_FALSE(loadYamlDocuments(std::string("\x01\0\0\0\0\0\0\x07#", 9), &docs, &error));
  EXPECT_EQ(error, "a control character YAML does not allow at line 1, column 1 (byte 0)");
  EXPECT_TRUE(loadYamlDocuments("a: \"x\ty\"\r\n", &docs, &error)) << error;
}

TEST(YamlDocumentsTest, Utf8Validation) {
  EXPECT_FALSE(firstInvalidUtf8("plain ascii"));
  EXPECT_FALSE(firstInvalidUtf8("\xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_EQ(firstInvalidUtf8("ab\xc0\xaf"), 2u);         // overlong '/'
  EXPECT_EQ(firstInvalidUtf8("\xed\xa0\x80"), 0u);       // a surrogate
  EXPECT_EQ(firstInvalidUtf8("x\xf4\x90\x80\x80"), 1u);  // past U+10FFFF
  EXPECT_EQ(firstInvalidUtf8("x\xe2\x82"), 1u);          // truncated
}

}  // namespace
}  // namespace weft::common
