//! Counts the HTTP requests every client sends (retries included), so `-v` can say how many AWS calls
//! a command made, and so a plan that suddenly makes one call per resource per attribute stands out.

use aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::BoxError;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    count: Arc<AtomicUsize>,
}

impl CallCounter {
    pub fn calls(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "stackctl-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
