//! Builds the interpreter's values for the model, with every object as a [`Node`] (read
//! with `.field` and `has()` like a map). [`from_model`] serialises the model's Rust types
//! straight into these values (no JSON tree in between: it held as much memory as the
//! values themselves); the tests hold it against a separate conversion of the model's JSON
//! form.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use cel::common::traits::Indexer;
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelStruct, Type,
};
use cel::common::value::{BuiltinRef, CowVal, Val};

pub use crate::model::MAP_FIELDS;

/// The struct type name model objects carry.
pub const NODE_TYPE: &str = "shipshape.Node";

/// Converts a JSON value into interpreter values on its own path (objects become nodes, the
/// [`MAP_FIELDS`] maps): the oracle the tests hold [`from_model`] against.
#[cfg(test)]
pub(crate) fn to_val(v: &serde_json::Value) -> Box<dyn Val> {
    match v {
        serde_json::Value::Null => Box::new(CelNull),
        serde_json::Value::Bool(b) => Box::new(CelBool::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Box::new(CelInt::from(i)),
            None => Box::new(CelDouble::from(n.as_f64().unwrap_or(0.0))),
        },
        serde_json::Value::String(s) => Box::new(CelString::from(s.clone())),
        serde_json::Value::Array(items) => {
            Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>()))
        }
        serde_json::Value::Object(map) => {
            let mut fields: Vec<Field> = Vec::new();
            for (k, x) in map {
                let field = match x {
                    serde_json::Value::Object(m) if MAP_FIELDS.contains(&k.as_str()) => {
                        let entries: std::collections::HashMap<CelMapKey, Box<dyn Val>> = m
                            .iter()
                            .map(|(mk, mv)| (CelMapKey::from(mk.clone()), to_val(mv)))
                            .collect();
                        Box::new(CelMap::from(entries)) as Box<dyn Val>
                    }
                    _ => to_val(x),
                };
                fields.push((Cow::Owned(k.clone()), field));
            }
            Box::new(Node::new(fields))
        }
    }
}

/// Serialises a model value straight into interpreter values: the same values as
/// [`to_val`] of its JSON form (objects become structs, the [`MAP_FIELDS`] become maps,
/// numbers that fit become ints), without building that JSON form.
pub fn from_model<T: serde::Serialize + ?Sized>(v: &T) -> Result<Box<dyn Val>, ValError> {
    v.serialize(ValSerializer { as_map: false })
}

/// The interpreter value of a repository's model, equal to [`from_model`]`(&repo)`, built
/// part by part: each part of the Rust model is handed to `dispose` (to be freed, e.g. on
/// another thread) as soon as its values exist, so the peak holds the values and about one
/// part of the model, not the whole of both.
pub fn from_repo(
    mut repo: crate::model::Repo,
    dispose: &dyn Fn(Box<dyn std::any::Any + Send>),
) -> Result<Box<dyn Val>, ValError> {
    fn part<T: serde::Serialize + Send + 'static>(
        name: &'static str,
        v: T,
        dispose: &dyn Fn(Box<dyn std::any::Any + Send>),
    ) -> Result<Field, ValError> {
        let as_map = MAP_FIELDS.contains(&name);
        let value = v.serialize(ValSerializer { as_map })?;
        dispose(Box::new(v));
        Ok((Cow::Borrowed(name), value))
    }
    let r = &mut repo;
    let fields = vec![
        part("ci", std::mem::take(&mut r.ci), dispose)?,
        part("app", std::mem::take(&mut r.app), dispose)?,
        part("dockerfiles", std::mem::take(&mut r.dockerfiles), dispose)?,
        part("compose", std::mem::take(&mut r.compose), dispose)?,
        part("packages", std::mem::take(&mut r.packages), dispose)?,
        part("alert_files", std::mem::take(&mut r.alert_files), dispose)?,
        part("files", std::mem::take(&mut r.files), dispose)?,
        part("parse_errors", std::mem::take(&mut r.parse_errors), dispose)?,
        part("suppressions", std::mem::take(&mut r.suppressions), dispose)?,
        part("root", std::mem::take(&mut r.root), dispose)?,
        part("fallback", r.fallback.clone(), dispose)?,
    ];
    Ok(Box::new(Node::new(fields)))
}

/// A model value that has no interpreter value (a map key that is no string or number).
#[derive(Debug)]
pub struct ValError(String);

impl std::fmt::Display for ValError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValError {}

impl serde::ser::Error for ValError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ValError(msg.to_string())
    }
}

/// The serializer behind [`from_model`]; `as_map` makes the next map a CEL map (a
/// [`MAP_FIELDS`] field's value) rather than a struct.
#[derive(Clone, Copy)]
struct ValSerializer {
    as_map: bool,
}

/// The struct JSON gives an enum variant holding a value: `{variant: value}`.
fn variant_node(variant: &'static str, value: Box<dyn Val>) -> Box<dyn Val> {
    Box::new(Node::new(vec![(Cow::Borrowed(variant), value)]))
}

/// Collects list items (sequences, tuples, tuple variants).
struct SeqSer {
    items: Vec<Box<dyn Val>>,
    variant: Option<&'static str>,
}

impl SeqSer {
    fn finish(self) -> Box<dyn Val> {
        let list: Box<dyn Val> = Box::new(CelList::from(self.items));
        match self.variant {
            Some(v) => variant_node(v, list),
            None => list,
        }
    }

    fn push<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ValError> {
        self.items
            .push(value.serialize(ValSerializer { as_map: false })?);
        Ok(())
    }
}

/// The four serde sequence shapes (sequences, tuples, tuple structs and tuple variants) all
/// collect their items into one list.
macro_rules! seq_shape {
    ($($shape:ident :: $method:ident),*) => {$(
        impl serde::ser::$shape for SeqSer {
            type Ok = Box<dyn Val>;
            type Error = ValError;
            fn $method<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ValError> {
                self.push(v)
            }
            fn end(self) -> Result<Box<dyn Val>, ValError> {
                Ok(self.finish())
            }
        }
    )*};
}

seq_shape!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Collects an object: a struct (fields by name), or a CEL map for a [`MAP_FIELDS`] value.
struct ObjSer {
    fields: Vec<Field>,
    as_map: bool,
    next_key: Option<String>,
    variant: Option<&'static str>,
}

impl ObjSer {
    fn new(as_map: bool, variant: Option<&'static str>) -> Self {
        ObjSer {
            fields: Vec::new(),
            as_map,
            next_key: None,
            variant,
        }
    }

    fn field<T: serde::Serialize + ?Sized>(
        &mut self,
        key: Cow<'static, str>,
        v: &T,
    ) -> Result<(), ValError> {
        // A field named as a map field holds data for keys, whatever object it sits in.
        let as_map = !self.as_map && MAP_FIELDS.contains(&key.as_ref());
        self.fields
            .push((key, v.serialize(ValSerializer { as_map })?));
        Ok(())
    }

    fn finish(self) -> Box<dyn Val> {
        let value: Box<dyn Val> = if self.as_map {
            let entries: std::collections::HashMap<CelMapKey, Box<dyn Val>> = self
                .fields
                .into_iter()
                .map(|(k, v)| (CelMapKey::from(k.into_owned()), v))
                .collect();
            Box::new(CelMap::from(entries))
        } else {
            Box::new(Node::new(self.fields))
        };
        match self.variant {
            Some(v) => variant_node(v, value),
            None => value,
        }
    }
}

impl serde::ser::SerializeMap for ObjSer {
    type Ok = Box<dyn Val>;
    type Error = ValError;
    fn serialize_key<T: serde::Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ValError> {
        self.next_key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ValError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| ValError("a map value without its key".to_string()))?;
        if self.as_map {
            // The entries of a map field are model objects again.
            self.fields.push((
                Cow::Owned(key),
                v.serialize(ValSerializer { as_map: false })?,
            ));
            Ok(())
        } else {
            self.field(Cow::Owned(key), v)
        }
    }
    fn end(self) -> Result<Box<dyn Val>, ValError> {
        Ok(self.finish())
    }
}

/// Structs and struct variants both name their fields statically.
macro_rules! struct_shape {
    ($($shape:ident),*) => {$(
        impl serde::ser::$shape for ObjSer {
            type Ok = Box<dyn Val>;
            type Error = ValError;
            fn serialize_field<T: serde::Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), ValError> {
                self.field(Cow::Borrowed(key), v)
            }
            fn end(self) -> Result<Box<dyn Val>, ValError> {
                Ok(self.finish())
            }
        }
    )*};
}

struct_shape!(SerializeStruct, SerializeStructVariant);

impl serde::Serializer for ValSerializer {
    type Ok = Box<dyn Val>;
    type Error = ValError;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = SeqSer;
    type SerializeMap = ObjSer;
    type SerializeStruct = ObjSer;
    type SerializeStructVariant = ObjSer;

    fn serialize_bool(self, v: bool) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelBool::from(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Box<dyn Val>, ValError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Box<dyn Val>, ValError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Box<dyn Val>, ValError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelInt::from(v)))
    }
    fn serialize_u8(self, v: u8) -> Result<Box<dyn Val>, ValError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Box<dyn Val>, ValError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Box<dyn Val>, ValError> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Box<dyn Val>, ValError> {
        match i64::try_from(v) {
            Ok(i) => self.serialize_i64(i),
            // As JSON numbers past i64 are read: a double.
            Err(_) => self.serialize_f64(v as f64),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Box<dyn Val>, ValError> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Box<dyn Val>, ValError> {
        if v.is_finite() {
            Ok(Box::new(CelDouble::from(v)))
        } else {
            // JSON has no NaN or infinity: they are null there.
            Ok(Box::new(CelNull))
        }
    }
    fn serialize_char(self, v: char) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelString::from(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelString::from(v.to_string())))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Box<dyn Val>, ValError> {
        let items: Vec<Box<dyn Val>> = v
            .iter()
            .map(|b| Box::new(CelInt::from(i64::from(*b))) as Box<dyn Val>)
            .collect();
        Ok(Box::new(CelList::from(items)))
    }
    fn serialize_none(self) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelNull))
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(self, v: &T) -> Result<Box<dyn Val>, ValError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelNull))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Box<dyn Val>, ValError> {
        Ok(Box::new(CelNull))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Box<dyn Val>, ValError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<Box<dyn Val>, ValError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Box<dyn Val>, ValError> {
        Ok(variant_node(
            variant,
            v.serialize(ValSerializer { as_map: false })?,
        ))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, ValError> {
        Ok(SeqSer {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, ValError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSer, ValError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer, ValError> {
        Ok(SeqSer {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<ObjSer, ValError> {
        Ok(ObjSer::new(self.as_map, None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<ObjSer, ValError> {
        Ok(ObjSer::new(self.as_map, None))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<ObjSer, ValError> {
        Ok(ObjSer::new(false, Some(variant)))
    }
}

/// Serialises a map key as JSON would: strings as they are, numbers and booleans as text.
struct KeySerializer;

impl KeySerializer {
    fn refuse(what: &str) -> ValError {
        ValError(format!(
            "a map key must be a string or a number, not {what}"
        ))
    }
}

/// Map keys that are text as JSON writes them (booleans, integers, characters, strings).
macro_rules! key_as_text {
    ($($method:ident : $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<String, ValError> {
            Ok(v.to_string())
        }
    )*};
}

impl serde::Serializer for KeySerializer {
    type Ok = String;
    type Error = ValError;
    type SerializeSeq = serde::ser::Impossible<String, ValError>;
    type SerializeTuple = serde::ser::Impossible<String, ValError>;
    type SerializeTupleStruct = serde::ser::Impossible<String, ValError>;
    type SerializeTupleVariant = serde::ser::Impossible<String, ValError>;
    type SerializeMap = serde::ser::Impossible<String, ValError>;
    type SerializeStruct = serde::ser::Impossible<String, ValError>;
    type SerializeStructVariant = serde::ser::Impossible<String, ValError>;

    key_as_text!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_char: char,
        serialize_str: &str
    );
    fn serialize_f32(self, _: f32) -> Result<String, ValError> {
        Err(Self::refuse("a float"))
    }
    fn serialize_f64(self, _: f64) -> Result<String, ValError> {
        Err(Self::refuse("a float"))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, ValError> {
        Err(Self::refuse("bytes"))
    }
    fn serialize_none(self) -> Result<String, ValError> {
        Err(Self::refuse("null"))
    }
    fn serialize_some<T: serde::Serialize + ?Sized>(self, v: &T) -> Result<String, ValError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, ValError> {
        Err(Self::refuse("null"))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, ValError> {
        Err(Self::refuse("null"))
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, ValError> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, ValError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, ValError> {
        Err(Self::refuse("an enum variant with a value"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ValError> {
        Err(Self::refuse("a list"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ValError> {
        Err(Self::refuse("a list"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ValError> {
        Err(Self::refuse("a list"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ValError> {
        Err(Self::refuse("a list"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ValError> {
        Err(Self::refuse("a map"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ValError> {
        Err(Self::refuse("an object"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ValError> {
        Err(Self::refuse("an object"))
    }
}

/// A value as a `cel::Value`, model objects included (as structs of type [`NODE_TYPE`],
/// their fields converted in turn): how results leave the interpreter.
pub fn to_value(v: &dyn Val) -> Result<cel::Value, cel::ExecutionError> {
    if let Some(node) = as_node(v) {
        let mut st = CelStruct::new(NODE_TYPE.to_string());
        for (k, f) in node.0.fields.iter() {
            let field: Box<dyn Val> = to_value(f.as_ref())?.try_into()?;
            st.add_field_value(k.to_string(), CowVal::Owned(field));
        }
        return Ok(cel::Value::Struct(Arc::new(st)));
    }
    match v.as_builtin() {
        BuiltinRef::List(l) => Ok(cel::Value::List(Arc::new(
            l.inner()
                .iter()
                .map(|i| to_value(i.as_ref()))
                .collect::<Result<Vec<_>, _>>()?,
        ))),
        BuiltinRef::Map(m) => {
            let mut entries = std::collections::HashMap::new();
            for (k, x) in m.inner() {
                let key: cel::objects::Key = match to_value(k.inner())? {
                    cel::Value::String(s) => cel::objects::Key::String(s),
                    cel::Value::Int(i) => cel::objects::Key::Int(i),
                    cel::Value::UInt(u) => cel::objects::Key::Uint(u),
                    cel::Value::Bool(b) => cel::objects::Key::Bool(b),
                    other => {
                        return Err(cel::ExecutionError::function_error(
                            "to_value",
                            format!("a map key of type {:?}", other.type_of()),
                        ));
                    }
                };
                entries.insert(key, to_value(x.as_ref())?);
            }
            Ok(cel::Value::Map(cel::objects::Map {
                map: Arc::new(entries),
            }))
        }
        _ => cel::Value::try_from(v),
    }
}

/// How much of the model a field holds: a list's or map's entries, a struct's fields.
pub fn size_of(v: &dyn Val) -> usize {
    if let Some(node) = as_node(v) {
        return node.len();
    }
    match v.as_builtin() {
        BuiltinRef::List(l) => l.len(),
        BuiltinRef::Map(m) => m.len(),
        BuiltinRef::Struct(s) => s.field_values().len(),
        _ => 1,
    }
}

/// Whether a value is a model object (a struct).
pub fn is_struct(v: &dyn Val) -> bool {
    as_node(v).is_some() || matches!(v.as_builtin(), BuiltinRef::Struct(_))
}

/// The model object `v` is, if it is one.
fn as_node(v: &dyn Val) -> Option<&Node> {
    v.as_any().and_then(|a| a.downcast_ref::<Node>())
}

/// A field of a model object, if it is one and has the field.
pub fn field<'a>(v: &'a dyn Val, name: &str) -> Option<&'a dyn Val> {
    if let Some(node) = as_node(v) {
        return node.field(name);
    }
    match v.as_builtin() {
        BuiltinRef::Struct(s) => s.field_value(name),
        _ => None,
    }
}

/// A model object, read by policies like a CEL struct (`.field`, `has()`, `==`): its fields
/// sorted by name, behind a reference count. The interpreter copies values freely (every
/// comprehension binds a copy of each element); copying a `Node` is a reference-count
/// increment. Field names of the model's own types are borrowed (`&'static str`). A
/// `CelStruct` per object (a type name, a B-tree and a string per field) held most of the
/// model's memory; results that leave the interpreter become `cel::Value`s through
/// [`to_value`].
#[derive(Debug, Clone)]
pub struct Node(Arc<NodeData>);

/// One field of a model object: its name and value.
pub type Field = (Cow<'static, str>, Box<dyn Val>);

/// The fields of a [`Node`].
#[derive(Debug)]
struct NodeData {
    /// Fields sorted by name, each name once.
    fields: Box<[Field]>,
}

impl Node {
    /// A node with these fields (a later field of the same name replaces an earlier one).
    pub fn new(mut fields: Vec<Field>) -> Self {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        fields.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        Node(Arc::new(NodeData {
            fields: fields.into_boxed_slice(),
        }))
    }

    /// The value of field `name`.
    pub fn field(&self, name: &str) -> Option<&(dyn Val + 'static)> {
        let fields = &self.0.fields;
        fields
            .binary_search_by(|(k, _)| k.as_ref().cmp(name))
            .ok()
            .map(|i| fields[i].1.as_ref())
    }

    /// How many fields it has.
    pub fn len(&self) -> usize {
        self.0.fields.len()
    }

    /// Whether it has no field.
    pub fn is_empty(&self) -> bool {
        self.0.fields.is_empty()
    }
}

/// The CEL type of every model object (a struct type named [`NODE_TYPE`]).
fn node_type() -> &'static Type {
    static NODE: OnceLock<CelStruct<'static>> = OnceLock::new();
    NODE.get_or_init(|| CelStruct::new(NODE_TYPE.to_string()))
        .get_type()
}

impl Val for Node {
    fn get_type(&self) -> &Type {
        node_type()
    }

    fn cel_type() -> &'static Type
    where
        Self: Sized,
    {
        node_type()
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn into_indexer<'v>(self: Box<Self>) -> Option<Box<dyn Indexer + 'v>>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn equals(&self, other: &dyn Val) -> bool {
        match other.as_any().and_then(|o| o.downcast_ref::<Node>()) {
            Some(o) => {
                Arc::ptr_eq(&self.0, &o.0)
                    || (self.len() == o.len()
                        && self
                            .0
                            .fields
                            .iter()
                            .zip(o.0.fields.iter())
                            .all(|((ka, va), (kb, vb))| ka == kb && va.equals(vb.as_ref())))
            }
            None => false,
        }
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(self.clone())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Indexer for Node {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, cel::ExecutionError>
    where
        Self: 'v,
    {
        let Some(name) = idx.downcast_ref::<CelString>() else {
            return Err(cel::ExecutionError::no_such_key("?"));
        };
        match self.field(name.inner()) {
            Some(v) => Ok(CowVal::Borrowed(v)),
            None => Err(cel::ExecutionError::no_such_key(name.inner())),
        }
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, cel::ExecutionError>
    where
        Self: 'v,
    {
        Indexer::get(&*self, idx).map(CowVal::into_owned)
    }
}

#[cfg(test)]
mod tests;
