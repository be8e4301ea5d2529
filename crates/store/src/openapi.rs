//! OpenAPI schemas for the few values whose Rust type does not say their JSON
//! shape (documents keyed by data-element code).

use bulwark_model::DataElement;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};

fn fields(nullable: bool) -> RefOr<Schema> {
    // Keys constrained by `propertyNames` rather than listed as `properties`:
    // the same contract (known element codes, string values), and no property
    // a tool could mistake for required.
    let codes: Vec<&str> = DataElement::ALL.iter().map(|e| e.code()).collect();
    let names = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes));
    let value = if nullable {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(if nullable {
            "Values keyed by data-element code, each validated and normalised for its element; a value replaces the stored one, `null` removes it."
        } else {
            "Values keyed by data-element code; each is validated and normalised for its element."
        }))
        .property_names(Some(names))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(value.into()))))
        .into()
}

/// A new customer's fields.
pub struct Fields;

impl utoipa::PartialSchema for Fields {
    fn schema() -> RefOr<Schema> {
        fields(false)
    }
}

impl utoipa::ToSchema for Fields {}

/// A patch's fields: a value replaces, `null` removes.
pub struct PatchFields;

impl utoipa::PartialSchema for PatchFields {
    fn schema() -> RefOr<Schema> {
        fields(true)
    }
}

impl utoipa::ToSchema for PatchFields {}
