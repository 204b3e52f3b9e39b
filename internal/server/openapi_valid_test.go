package server_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
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
				if !described {
					t.Errorf("%s %s (%s) answers %s with a bare object schema: describe its fields", method, path, op.OperationId, code)
				}
			}
		}
	}
}

// TestOpenAPIExamplesMatchSchemas validates every example of the document against the schema
// it illustrates: the examples of each request and response body (media type example and
// examples, and the examples of its schema) and those of every component schema. A reader or
// a generated client that trusts an example must not be misled.
func TestOpenAPIExamplesMatchSchemas(t *testing.T) {
	_, model := loadOpenAPI(t)
	check := schema_validation.NewSchemaValidator()
	validate := func(where string, proxy *base.SchemaProxy, example *yaml.Node) {
		t.Helper()
		if proxy == nil || example == nil {
			return
		}
		schema := proxy.Schema()
		if schema == nil {
			t.Errorf("%s: schema does not resolve: %v", where, proxy.GetBuildError())
			return
		}
		var value any
		if err := example.Decode(&value); err != nil {
			t.Errorf("%s: example does not decode: %v", where, err)
			return
		}
		if ok, errs := check.ValidateSchemaObjectWithVersion(schema, value, 3.1); !ok {
			for _, e := range errs {
				t.Errorf("%s: example does not match its schema: %s", where, e.Message)
				for _, se := range e.SchemaValidationErrors {
					t.Errorf("  %s (at %s)", se.Reason, se.FieldPath)
				}
			}
		}
	}
	media := func(where string, content *orderedmap.Map[string, *v3.MediaType]) int {
		n := 0
		for ctype, m := range content.FromOldest() {
			if m.Schema == nil {
				continue
			}
			at := where + " " + ctype
			validate(at+" example", m.Schema, m.Example)
			if m.Example != nil {
				n++
			}
			for name, ex := range m.Examples.FromOldest() {
				validate(at+" examples/"+name, m.Schema, ex.Value)
				n++
			}
			if s := m.Schema.Schema(); s != nil {
				for i, ex := range s.Examples {
					validate(fmt.Sprintf("%s schema examples/%d", at, i), m.Schema, ex)
					n++
				}
			}
		}
		return n
	}
	count := 0
	for path, item := range model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := method + " " + path
			if op.RequestBody != nil {
				count += media(where+" request", op.RequestBody.Content)
			}
			for code, resp := range op.Responses.Codes.FromOldest() {
				count += media(where+" "+code, resp.Content)
			}
		}
	}
	for name, proxy := range model.Components.Schemas.FromOldest() {
		if s := proxy.Schema(); s != nil {
			for i, ex := range s.Examples {
				validate(fmt.Sprintf("components/schemas/%s examples/%d", name, i), proxy, ex)
			}
		}
	}
	if count == 0 {
		t.Fatal("no example found: is the walk still right?")
	}
}
