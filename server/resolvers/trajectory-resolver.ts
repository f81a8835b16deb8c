import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SlimmingStepEvent } from '../events';
import { StartSlimmingInput } from '../../schema/inputs';
import { Candidate, Job, ProposalScore, SlimmingStep, SlimmingTrajectory, Supernet } from '../../schema/types';
import {
  Candidate as CandidateEntity,
  SlimmingTrajectory as SlimmingTrajectoryEntity,
  type SlimmingStep as SlimmingStepEntity,
  type SlimmingTrajectory as TrajectoryEntity,
} from '../entities';
import { Access } from '../auth/policy';
import type { GraphQLContext } from '../services';
import { uuid } from '../validation';

@Resolver(() => SlimmingTrajectory)
export class TrajectoryResolver {
  @Access('READ')
  @Query(() => SlimmingTrajectory)
  trajectory(@Arg('id', () => ID) id: string, @Ctx() { services, caller }: GraphQLContext) {
    return services.slimming.getTrajectory(caller, id);
  }

  @Access('WRITE')
  @Mutation(() => Job, { description: 'Creates a trajectory and queues the SLIM job that walks the supernet down greedily.' })
  startSlimming(@Arg('input', () => StartSlimmingInput) input: StartSlimmingInput, @Ctx() { services, caller }: GraphQLContext) {
    return services.slimming.start(caller, input);
  }

  @FieldResolver(() => [SlimmingStep], { description: 'In greedy order; step 0 is the widest config.' })
  steps(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext) {
    return services.slimming.steps(trajectory.id);
  }

  @FieldResolver(() => [Candidate], { description: 'One per target crossed, largest target first.' })
  async candidates(@Root() trajectory: TrajectoryEntity, @Ctx() { services }: GraphQLContext) {
    return services.orm.em.fork().find(CandidateEntity, { trajectory: trajectory.id }, { orderBy: { target: 'desc' } });
  }

  @FieldResolver(() => Supernet)
  supernet(@Root() trajectory: TrajectoryEntity, @Ctx() { services, caller }: GraphQLContext) {
    return services.supernets.get(caller, trajectory.supernet.id);
  }

  @Access('READ')
  @Subscription(() => SlimmingStep, {
    description: 'One event per greedy step of a trajectory, as it is persisted.',
    topics: 'SLIMMING_PROGRESS',
    topicId: ({ args }) => uuid('trajectoryId', (args as { trajectoryId: string }).trajectoryId),
    // A trajectory of a project the caller cannot see is silent, as one that does not exist is.
    filter: ({ args, context }: { args: { trajectoryId: string }; context: GraphQLContext }) =>
      context.caller.mayRead(SlimmingTrajectoryEntity, args.trajectoryId),
  })
  async slimmingProgress(
    @Root() event: SlimmingStepEvent,
    @Arg('trajectoryId', () => ID) _trajectoryId: string,
    @Ctx() { services }: GraphQLContext,
  ) {
    return services.slimming.step(event.stepId);
  }
}

@Resolver(() => SlimmingStep)
export class SlimmingStepResolver {
  @FieldResolver(() => [ProposalScore], { description: "Every proposal of the step, in unit order; empty for step 0." })
  proposals(@Root() step: SlimmingStepEntity): ProposalScore[] {
    // Steps recorded before screening existed carry neither screening field.
    return step.proposals.map((p) => ({ ...p, screenAccuracy: p.screenAccuracy ?? null, screenedOut: p.screenedOut ?? false }));
  }
}
