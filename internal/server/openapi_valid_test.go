package server_test

import (
	"os"
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
