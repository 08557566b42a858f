//! Resource variables (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE): ids and state slots.

use super::graph::{opcode_of, same_variable, subgraph, var_name};
use crate::error::Error;
use crate::model::{BuiltinOp, Model, Subgraph};

/// The most distinct resource variables a model may have.
pub(super) const MAX_VARIABLES: usize = 64;
/// The most READ_VARIABLE + ASSIGN_VARIABLE operators (each one resolves its variable by a scan
/// of its subgraph, so this bounds prepare time on hostile models).
pub(super) const MAX_VARIABLE_OPS: usize = 1024;

/// Resource variables, resolved once per [`Interpreter::new`] in one pass over the operators
/// (on the stack, about 1 KiB): which VAR_HANDLE names each variable, and where each variable
/// lives in the state buffer.
pub(super) struct Vars {
    /// (subgraph, operator) of the VAR_HANDLE that created variable `id`.
    pub(super) first: [(u16, u16); MAX_VARIABLES],
    /// Variable `id`'s (offset, bytes, reset byte) in the state buffer, once assigned.
    pub(super) slot: [Option<(u32, u32, u8)>; MAX_VARIABLES],
    /// Number of variables.
    pub(super) count: usize,
    /// Bytes of state all variables need.
    pub(super) state_bytes: u32,
}

impl Vars {
    /// Ids in prepare order (subgraph by subgraph), as TFLM's `CreateIdIfNoneFound` numbers
    /// them: a VAR_HANDLE matching no existing variable creates the next id. Slots: TFLM
    /// allocates a variable at the first ASSIGN_VARIABLE prepared for it, sized by and memset
    /// to the zero point (as int8) of that value tensor; variables are laid out in that order,
    /// unpadded.
    pub(super) fn new(model: &Model<'_>) -> Result<Vars, Error> {
        let mut v = Vars {
            first: [(0, 0); MAX_VARIABLES],
            slot: [None; MAX_VARIABLES],
            count: 0,
            state_bytes: 0,
        };
        let mut var_ops = 0;
        for s in 0..model.subgraph_count() {
            let sg = subgraph(model, s)?;
            for k in 0..sg.operator_count() {
                match opcode_of(model, &sg, k)?.0 {
                    BuiltinOp::VAR_HANDLE if v.find(model, var_name(&sg, k)?)?.is_none() => {
                        if v.count == MAX_VARIABLES {
                            return Err(Error::LimitExceeded {
                                what: "resource variables",
                                limit: MAX_VARIABLES as u32,
                            });
                        }
                        // Subgraph and operator indices as u16 (larger models are refused).
                        let (Ok(s16), Ok(k16)) = (u16::try_from(s), u16::try_from(k)) else {
                            return Err(Error::LimitExceeded {
                                what: "operators",
                                limit: u16::MAX as u32,
                            });
                        };
                        v.first[v.count] = (s16, k16);
                        v.count += 1;
                    }
                    BuiltinOp::READ_VARIABLE | BuiltinOp::ASSIGN_VARIABLE => {
                        var_ops += 1;
                        if var_ops > MAX_VARIABLE_OPS {
                            return Err(Error::LimitExceeded {
                                what: "READ_VARIABLE and ASSIGN_VARIABLE operators",
                                limit: MAX_VARIABLE_OPS as u32,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut offset: u32 = 0;
        for s in 0..model.subgraph_count() {
            let sg = subgraph(model, s)?;
            for k in 0..sg.operator_count() {
                if opcode_of(model, &sg, k)?.0 != BuiltinOp::ASSIGN_VARIABLE {
                    continue;
                }
                let o = sg.operator(k).ok_or(Error::InvalidGraph {
                    what: "operator",
                    index: k as i32,
                })?;
                let (r, val) = (o.inputs.get(0).unwrap_or(-1), o.inputs.get(1).unwrap_or(-1));
                let id = v.resource_of(model, &sg, r)?;
                let value = usize::try_from(val).ok().and_then(|t| sg.tensor(t)).ok_or(
                    Error::InvalidGraph {
                        what: "ASSIGN_VARIABLE value",
                        index: val,
                    },
                )?;
                if let Some(slot @ None) = v.slot.get_mut(id) {
                    let bytes = value.bytes() as u32;
                    *slot = Some((offset, bytes, value.quant.zero_point() as i8 as u8));
                    offset = offset.checked_add(bytes).ok_or(Error::LimitExceeded {
                        what: "state bytes",
                        limit: u32::MAX,
                    })?;
                }
            }
        }
        v.state_bytes = offset;
        Ok(v)
    }

    /// The id of the variable named `var`, if one was created.
    pub(super) fn find(
        &self,
        model: &Model<'_>,
        var: (&str, &str),
    ) -> Result<Option<usize>, Error> {
        for (id, &(s, k)) in self.first[..self.count].iter().enumerate() {
            let sg = subgraph(model, s as usize)?;
            if same_variable(var_name(&sg, k as usize)?, var) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The id of the variable named `var` (which must exist).
    pub(super) fn id(&self, model: &Model<'_>, var: (&str, &str)) -> Result<usize, Error> {
        self.find(model, var)?.ok_or(Error::InvalidGraph {
            what: "unknown resource variable",
            index: -1,
        })
    }

    /// The variable a resource tensor of `sg` refers to: the VAR_HANDLE there that writes it.
    pub(super) fn resource_of(
        &self,
        model: &Model<'_>,
        sg: &Subgraph<'_>,
        tensor: i32,
    ) -> Result<usize, Error> {
        for k in 0..sg.operator_count() {
            if opcode_of(model, sg, k)?.0 != BuiltinOp::VAR_HANDLE {
                continue;
            }
            let o = sg.operator(k).ok_or(Error::InvalidGraph {
                what: "operator",
                index: k as i32,
            })?;
            if o.outputs.get(0) == Some(tensor) {
                return self.id(model, var_name(sg, k)?);
            }
        }
        Err(Error::InvalidGraph {
            what: "resource tensor not produced by VAR_HANDLE",
            index: tensor,
        })
    }
}
