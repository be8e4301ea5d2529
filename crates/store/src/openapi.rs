//! OpenAPI schemas for the few values whose Rust type does not say their JSON
//! shape (documents keyed by data-element code).

use bulwark_model::DataElement;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

fn fields(nullable: bool) -> RefOr<Schema> {
    let mut o = ObjectBuilder::new()
        .description(Some(
            "Values keyed by data-element code; each is validated and normalised for its element.",
        ))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for e in DataElement::ALL {
        let value = if nullable {
            ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        };
        o = o.property(e.code(), value);
    }
    o.into()
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
