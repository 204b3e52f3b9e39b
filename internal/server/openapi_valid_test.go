package server_test

import (
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// openAPIFile is the document the server embeds and serves at /api/openapi.json.
const openAPIFile = "openapi.json"

// loadOpenAPI parses the served document with libopenapi, a library independent of the
// server, and builds its OpenAPI 3.1 model; any error there is an invalid document.
func loadOpenAPI(t testing.TB) (libopenapi.Document, *v3.Document) {
	t.Helper()
	data, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(data)
	if err != nil {
		t.Fatalf("parse %s: %v", openAPIFile, err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build the OpenAPI model of %s: %v", openAPIFile, err)
	}
	return doc, &model.Model
}

// TestOpenAPIDocumentIsValid checks the document against the OpenAPI 3.1 meta-schema and
// wants a unique operationId on every operation, so that generated clients get usable names.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, model := loadOpenAPI(t)
	if v := doc.GetSpecInfo().Version; v != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s", e.Error())
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s", se.Reason, se.FieldPath)
			}
		}
	}
	seen := map[string]string{}
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := method + " " + path
			switch prev, dup := seen[op.OperationId]; {
			case op.OperationId == "":
				t.Errorf("%s has no operationId", where)
			case dup:
				t.Errorf("%s and %s share the operationId %q", prev, where, op.OperationId)
			default:
				seen[op.OperationId] = where
			}
		}
	}
}

// looseResponses are the operations whose JSON success body is still described only as
// "an object": the list may only shrink. The main flows (auth, items, search, lectures,
// courses) are described field by field.
var looseResponses = map[string]bool{
	"getOpenAPI": true, "getVocabulary": true, "getItemHistory": true, "getItemFixity": true,
	"getItemStats": true, "recordItemView": true, "listTrendingItems": true, "startUpload": true,
	"getUpload": true, "presignUploadParts": true, "listCollections": true, "createCollection": true,
	"getCollection": true, "replaceCollection": true, "listItemDerivatives": true, "searchCourses": true,
	"setCourseStatus": true, "recordLessonPlay": true, "listMyLearning": true, "enrolInCourse": true,
	"getCourseProgress": true, "saveLessonProgress": true, "getItemMedia": true, "whepPinLayer": true,
	"postChatMessage": true, "deleteChatMessage": true, "markQuestionAnswered": true, "getIceServers": true,
	"getCourseStats": true, "reviewCourse": true,
}

// TestOpenAPISuccessBodiesHaveSchemas wants every JSON success body described by its fields
// (a component or properties), not by a bare {"type": "object"} that any answer matches.
func TestOpenAPISuccessBodiesHaveSchemas(t *testing.T) {
	_, model := loadOpenAPI(t)
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			for code, resp := range op.Responses.Codes.FromOldest() {
				if !strings.HasPrefix(code, "2") || resp.Content == nil {
					continue
				}
				media, ok := resp.Content.Get("application/json")
				if !ok || media.Schema == nil {
					continue
				}
				described := media.Schema.IsReference()
				if s := media.Schema.Schema(); s != nil && !described {
					described = (s.Properties != nil && s.Properties.Len() > 0) || len(s.AllOf) > 0 || s.Items != nil
				}
				switch {
				case !described && !looseResponses[op.OperationId]:
					t.Errorf("%s %s (%s) answers %s with a bare object schema: describe its fields", method, path, op.OperationId, code)
				case described && looseResponses[op.OperationId]:
					t.Errorf("%s now has a real schema: remove it from looseResponses", op.OperationId)
				}
			}
		}
	}
}
